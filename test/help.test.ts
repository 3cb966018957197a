import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('--help', () => {
  const commands = ['export', 'token', 'tags', 'diff', 'config', 'config set', 'config get', 'config unset', 'config list', 'config path'];

  it.each(commands)('of %s ends with two or three examples to copy', async (command) => {
    const result = await runCli([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    // Each example runs this command, maybe behind a pipe or inside $(...).
    expect(result.stdout.toString()).toMatch(new RegExp(`\\nExamples:\\n(  \\$ .*wx-followers ${command}\\b.*\\n){2,3}$`));
  });
});
