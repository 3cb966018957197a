import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FAKE_TOKEN, type FakeApi, type FakeApiOptions, type RecordedCall } from './fake-api/server.js';
import { BIN, cleanEnv, exportFrom, onPosix, runProcess, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

/** Internal switch for these tests only: the list walked one page at a time, as before read-ahead. */
const ONE_PAGE_AT_A_TIME = { WX_FOLLOWERS_TEST_NO_READ_AHEAD: '1' };

const listCalls = (api: FakeApi): RecordedCall[] => api.calls.filter((call) => call.path === '/cgi-bin/user/get');

/** Waits for an event of the fake (a connection closing) that follows the child's exit closely; no timing is asserted. */
async function eventually(check: () => boolean): Promise<void> {
  for (let waited = 0; waited < 3_000 && !check(); waited += 20) await delay(20);
}

describe('read-ahead and the pipelined details: the same bytes either way', () => {
  it.each([
    ['text', []],
    ['csv', ['--format', 'csv']],
    ['ndjson', ['--format', 'ndjson']],
    ['csv at --limit in the middle of a page', ['--format', 'csv', '--limit', '12345']],
    ['--with-info csv', ['--with-info', '--concurrency', '3']],
    ['--with-info ndjson at --limit', ['--with-info', '-f', 'ndjson', '--limit', '2150']],
  ])('%s', async (_name, args) => {
    const options: FakeApiOptions = args.includes('--with-info') ? { followers: 2_500, pageSize: 1_000 } : { followers: 23_000 };
    const ahead = await exportFrom(await fake(options), args);
    const oneAtATime = await exportFrom(await fake(options), args, ONE_PAGE_AT_A_TIME);
    expect([ahead.code, oneAtATime.code]).toEqual([0, 0]);
    expect(ahead.stdout.length).toBeGreaterThan(1_000);
    expect(ahead.stdout.equals(oneAtATime.stdout)).toBe(true);
    expect(ahead.stderr).toBe(oneAtATime.stderr);
  });

  it('with --state and --limit, writes the same file in the same chunks either way', async () => {
    const chunks = async (env: Record<string, string>): Promise<{ file: string; stderr: string[] }> => {
      const api = await fake({ followers: 25_000 });
      const dir = await tempDir();
      const file = join(dir, 'followers.csv');
      const args = ['export', '--base-url', api.url, '-f', 'csv', '-o', file, '--state', join(dir, 'state.json'), '--limit', '15000'];
      const stderr: string[] = [];
      for (let run = 0; run < 2; run += 1) {
        const result = await runProcess(process.execPath, [BIN, ...args], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }) });
        expect(result.code).toBe(0);
        stderr.push(result.stderr.replaceAll(dir, 'DIR'));
      }
      // 15,000 in two calls (the second page cut), then 10,000 and the answer without data.
      expect(listCalls(api)).toHaveLength(4);
      return { file: await readFile(file, 'utf8'), stderr };
    };
    const ahead = await chunks({});
    const oneAtATime = await chunks(ONE_PAGE_AT_A_TIME);
    expect(ahead.file.split('\n')).toHaveLength(25_002);
    expect(ahead).toEqual(oneAtATime);
  });
});

describe('read-ahead', () => {
  // The reader takes its line and goes away a moment later (the sleep holds the pipe open), so
  // that the page read ahead has surely been asked for: it must then be aborted, not awaited.
  const headOne = async (api: FakeApi, env: Record<string, string>): Promise<CliResult> =>
    runProcess(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" export --base-url ${api.url} | { head -1; sleep 0.3; }; echo "exit=\${PIPESTATUS[0]}" >&2`],
      {
        env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }),
      },
    );

  // bash and `head`: Windows has neither.
  it.runIf(onPosix)('costs a reader that goes away (| head -1) at most one extra call, aborted at once', async () => {
    // Every call answers late, so that the page read ahead is still on its way when the reader goes.
    const api = await fake({ followers: 50_000, latencyMs: 1_000 });
    const result = await headOne(api, {});
    expect(result.stdout.toString()).toBe(`${api.followers.at(0)}\n`);
    expect(result.stderr).toBe('exit=1\n');
    await eventually(() => listCalls(api).at(1)?.abandoned === true);
    expect(listCalls(api).map((call) => call.abandoned)).toEqual([false, true]);
    expect(listCalls(api)[1]?.query.get('next_openid')).toBe(api.followers.at(9_999));

    const oneAtATime = await fake({ followers: 50_000, latencyMs: 1_000 });
    const before = await headOne(oneAtATime, ONE_PAGE_AT_A_TIME);
    expect(before.stderr).toBe('exit=1\n');
    expect(listCalls(oneAtATime).map((call) => call.abandoned)).toEqual([false]);
  });

  it('asks for one page after a --limit that ends on a page boundary (to learn that the list goes on), and no more', async () => {
    const api = await fake({ followers: 50_000 });
    const result = await exportFrom(api, ['--limit', '20000']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`--resume ${api.followers.at(19_999)}`);
    expect(listCalls(api)).toHaveLength(3);
  });
});

describe('--with-info across page boundaries', () => {
  it("starts the next page's batches while the last batch of this page still answers", async () => {
    let releasedBy = '';
    let release: (by: string) => void = () => undefined;
    const lastOfFirstPage = new Promise<void>((resolve) => {
      release = (by) => {
        releasedBy ||= by;
        resolve();
      };
    });
    const api = await fake({
      followers: 1_500,
      pageSize: 1_000,
      fault: (call) => {
        if (call.path !== '/cgi-bin/user/info/batchget') return undefined;
        const first = (JSON.parse(call.body) as { user_list: { openid: string }[] }).user_list[0]?.openid ?? '';
        const index = api.followers.indexOf(first);
        if (index === 900) {
          // Without pipelining this would wait for ever: a fallback ends the wait, and the test fails.
          setTimeout(() => release('fallback'), 5_000).unref();
          return { kind: 'hold', until: lastOfFirstPage };
        }
        if (index === 1_000) release('the next page');
        return undefined;
      },
    });
    const result = await exportFrom(api, ['--with-info', '--concurrency', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(new RegExp(`^openid,.*\\n${api.followers.at(0)},[^]*\\n${api.followers.at(1_499)},`));
    expect(releasedBy).toBe('the next page');
  });
});
