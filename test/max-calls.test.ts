import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi } from './fake-api/server.js';
import { cleanEnv, exportFrom, lines, resumeCursor, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

function callsOf(api: FakeApi, path: string): number {
  return api.calls.filter((call) => call.path === path).length;
}

describe('--max-calls', () => {
  it('stops cleanly before the call past it: exit 0, the pages in hand written, the cursor named, --resume goes on', async () => {
    const api = await fake({ followers: 25_000, pageSize: 10_000 });
    const first = await exportFrom(api, ['--max-calls', '2']);
    expect(first.code).toBe(0);
    const openids = allOpenids(api.followers);
    expect(first.stdout.toString()).toBe(lines(openids.slice(0, 20_000)));
    // The third page, asked ahead, was never sent.
    expect(api.calls).toHaveLength(2);
    expect(first.stderr).toMatch(/^wx-followers: stopped at --max-calls 2\. To continue, run again with --resume \S+$/m);
    const cursor = resumeCursor(first.stderr);
    expect(cursor).toBe(openids[19_999]);
    const rest = await exportFrom(api, ['--resume', cursor]);
    expect([rest.code, rest.stdout.toString()]).toEqual([0, lines(openids.slice(20_000))]);
  });

  it('with --state: FILE.partial kept, the state saved, and the same command goes on until the export is whole', async () => {
    const api = await fake({ followers: 25_000, pageSize: 10_000 });
    const dir = await tempDir();
    const output = join(dir, 'followers.txt');
    const args = ['export', '--base-url', api.url, '-o', output, '--state', join(dir, 'state'), '--max-calls', '2'];
    const env = cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const first = await runCli(args, { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(
      /stopped at --max-calls 2 with 20,000 OpenIDs in .*followers\.txt\.partial\. Run the same command again to go on\./,
    );
    await expect(stat(output)).rejects.toThrow();
    expect(api.calls).toHaveLength(2);
    // The last page, then the empty answer that ends the list: two calls again.
    const second = await runCli(args, { env });
    expect(second.code).toBe(0);
    expect(api.calls).toHaveLength(4);
    expect(await readFile(output, 'utf8')).toBe(lines(allOpenids(api.followers)));
  });

  it('counts every call of the run, a token call too: a run whose one call gets the token writes nothing, and says so', async () => {
    const api = await fake({ followers: 5 });
    const dir = await tempDir();
    const output = join(dir, 'followers.csv');
    const result = await runCli(['export', '--base-url', api.url, '-f', 'csv', '-o', output, '--max-calls', '1'], {
      env: cleanEnv(dir, { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET }),
    });
    expect(result.code).toBe(0);
    expect(api.calls.map((call) => call.path)).toEqual(['/cgi-bin/stable_token']);
    expect(result.stderr).toMatch(
      /stopped at --max-calls 1 before any OpenID was written \(a token or a retry took the calls\): give it more\./,
    );
    // Neither an empty FILE that would pass for an account of no one, nor a FILE.partial.
    await expect(stat(output)).rejects.toThrow();
    await expect(stat(`${output}.partial`)).rejects.toThrow();
  });

  it('with --with-info and --state, stops inside a page after the last batch written, and the next run goes on from that row', async () => {
    const api = await fake({ followers: 450, pageSize: 1_000 });
    const dir = await tempDir();
    const output = join(dir, 'followers.ndjson');
    const args = [
      'export',
      '--base-url',
      api.url,
      '--with-info',
      '-f',
      'ndjson',
      '-o',
      output,
      '--state',
      join(dir, 'state'),
      '--max-calls',
      '5',
    ];
    const env = cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const first = await runCli(args, { env });
    expect(first.code).toBe(0);
    // The page, the end of the list asked ahead, then three batches of 100.
    expect(api.calls).toHaveLength(5);
    expect(callsOf(api, '/cgi-bin/user/info/batchget')).toBe(3);
    expect(first.stderr).toMatch(/stopped at --max-calls 5 with 300 OpenIDs in/);
    const second = await runCli(args, { env });
    expect(second.code).toBe(0);
    const rows = (await readFile(output, 'utf8')).split('\n').slice(0, -1);
    expect(rows.map((row) => (JSON.parse(row) as { openid: string }).openid)).toEqual(allOpenids(api.followers));
  });

  it('does not hide a failure: a retry it leaves unsent ends the run with the failure exit code, saying why', async () => {
    const api = await fake({
      followers: 25_000,
      pageSize: 10_000,
      fault: (call) => (call.query.get('next_openid') !== null ? { kind: 'errcode', errcode: -1, errmsg: 'system error' } : undefined),
    });
    const result = await exportFrom(api, ['--max-calls', '3', '--retries', '5']);
    expect(result.code).toBe(5);
    expect(api.calls).toHaveLength(3);
    expect(result.stderr).toMatch(/errcode -1.*\(Not retried: the 3 calls of --max-calls are made\.\)/);
    expect(result.stderr).toMatch(/To continue, run again with --resume /);
  });

  it.each([['0'], ['abc'], ['-1'], ['1.5']])('refuses --max-calls %s before any call (exit 2)', async (value) => {
    const api = await fake({ followers: 5 });
    const result = await exportFrom(api, [`--max-calls=${value}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--max-calls takes a whole number greater than 0/);
    expect(api.calls).toEqual([]);
  });
});
