import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from './helpers/cli.js';

/** A proxy URL typed wrong still carries its password: `config list` and `get` never show it. */
describe('a stored proxy URL that does not read as user:password@host', () => {
  it.each([
    ['a scheme without its colon', 'http//bob:Pa55w0rd@127.0.0.1:9', '***@127.0.0.1:9'],
    ["an '@' typed for the ':'", 'http://bob@Pa55w0rd@127.0.0.1:9', 'http://***@127.0.0.1:9'],
    ['no scheme', 'bob:Pa55w0rd@127.0.0.1:9', '***@127.0.0.1:9'],
    ['a well-formed one', 'http://bob:Pa55w0rd@127.0.0.1:9', 'http://bob:***@127.0.0.1:9'],
  ])('%s: masked in list and get', async (_what, stored, shown) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ proxy: stored }), { mode: 0o600 });
    const env = cleanEnv(dir);
    const list = await runCli(['config', 'list'], { env });
    const get = await runCli(['config', 'get', 'proxy'], { env });
    expect([list.code, list.stdout.toString()]).toEqual([0, `proxy=${shown}\n`]);
    expect([get.code, get.stdout.toString()]).toEqual([0, `${shown}\n`]);
    expect(list.stderr + get.stderr).not.toContain('Pa55w0rd');
  });
});
