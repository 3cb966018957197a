import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('--help', () => {
  it.each(['export', 'token', 'tags', 'diff', 'config'])('of %s ends with two or three examples to copy', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(new RegExp(`\\nExamples:\\n(  \\$ wx-followers ${command}\\b.*\\n|  \\$ wx-followers export \\| wx-followers ${command}\\b.*\\n){2,3}$`));
  });
});
