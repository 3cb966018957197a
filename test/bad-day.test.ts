import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, type FakeApi, type RecordedCall } from './fake-api/server.js';
import { cleanEnv, exportFrom, lines, resumeCursor, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

// The CLI against a fake API that answers like a bad day: answers that contradict themselves,
// values of the wrong type or shape, tokens without a lifetime, a crowd of long waits.
const fake = useFakes();

const APP = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };

function listCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/get');
}

function batchgetCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/info/batchget');
}

/** Page 1's answer, bad the first `times` it is asked, as `bad` makes it from the normal one. */
function badPageOnce(
  bad: (normal: Record<string, unknown>) => object,
  times = 1,
): (normal: Record<string, unknown>, page: number) => object | undefined {
  let given = 0;
  return (normal, page) => (page === 1 && given++ < times ? bad(normal) : undefined);
}

const openidsOf = (normal: Record<string, unknown>): string[] => (normal['data'] as { openid: string[] }).openid;

describe('a list answer that contradicts itself', () => {
  it.each<[string, (normal: Record<string, unknown>) => object]>([
    ['count 0 with OpenIDs', (normal) => ({ ...normal, count: 0 })],
    ['data and no count', (normal) => ({ total: normal['total'], data: normal['data'], next_openid: normal['next_openid'] })],
    ['count > 0 and no data', (normal) => ({ total: normal['total'], count: normal['count'], next_openid: '' })],
    ['{}', () => ({})],
    ['errcode 0 and no count', () => ({ errcode: 0, errmsg: 'ok' })],
    ['a count that fits neither', (normal) => ({ ...normal, count: 9_999 })],
    ['count as a string', (normal) => ({ ...normal, count: String(normal['count']) })],
    ['total as words', (normal) => ({ ...normal, total: 'nine' })],
    ['a negative total', (normal) => ({ ...normal, total: -5 })],
    ['total 1e308', (normal) => ({ ...normal, total: 1e308 })],
    ['next_openid null', (normal) => ({ ...normal, next_openid: null })],
  ])('(%s) is retried, never taken for the end: the export is whole', async (_name, bad) => {
    const api = await fake({ followers: 30_000, listAnswer: badPageOnce(bad) });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    // Page 1 twice (the bad answer, then the good one), and the answer that ends the list.
    expect(listCalls(api).map((call) => call.query.get('next_openid'))).toEqual([
      null,
      api.followers.at(9_999),
      api.followers.at(9_999),
      api.followers.at(19_999),
      api.followers.at(29_999),
    ]);
  });

  it('every time: exit 5 once --retries are spent, and a good file is not replaced by a short one', async () => {
    const api = await fake({ followers: 30_000, listAnswer: (_normal, page) => (page === 1 ? { errcode: 0, errmsg: 'ok' } : undefined) });
    const dir = await tempDir();
    const output = join(dir, 'followers.txt');
    await writeFile(output, 'the export of yesterday\n');
    const result = await exportFrom(api, ['--retries', '2', '-o', output]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/answer for the follower list is malformed: it has no `count`\..*\(Gave up after 2 retries\.\)/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(listCalls(api)).toHaveLength(4);
    expect(await readFile(output, 'utf8')).toBe('the export of yesterday\n');
  });

  it('the published example ["", A, B] with count 2 is a good page', async () => {
    const api = await fake({ followers: 3, emptyStringInFirstPage: true });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
  });
});

describe('a last page whose `data` is null', () => {
  it.each<[string, object]>([
    ['"data": null', { data: null }],
    ['"data": {"openid": null}', { data: { openid: null } }],
  ])('(%s) with count 0 ends the list: the export is whole, the answer asked once', async (_name, data) => {
    const api = await fake({ followers: 30_000, listAnswer: (normal, page) => (page === 3 ? { ...normal, ...data } : undefined) });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(listCalls(api)).toHaveLength(4);
  });

  it.each<[string, object, string]>([
    ['"data": null', { data: null }, '`data` is null'],
    ['"data": {"openid": null}', { data: { openid: null } }, '`data.openid` is null'],
  ])('(%s) with count above 0 is malformed: retried, then exit 5 with the cursor', async (_name, data, what) => {
    const api = await fake({ followers: 30_000, listAnswer: (normal, page) => (page === 1 ? { ...normal, ...data } : undefined) });
    const result = await exportFrom(api, ['--retries', '2']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`answer for the follower list is malformed: \`count\` is 10000, but ${what}.`);
    expect(result.stderr).toMatch(/\(Gave up after 2 retries\.\)/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(listCalls(api)).toHaveLength(4);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 10_000)));
  });
});

describe('a page with data and an empty next_openid', () => {
  it("goes on after the page's last OpenID, and the next answer ends the list", async () => {
    const api = await fake({ followers: 30_000, listAnswer: (normal, page) => (page === 1 ? { ...normal, next_openid: '' } : undefined) });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(listCalls(api).map((call) => call.query.get('next_openid'))).toEqual([
      null,
      api.followers.at(9_999),
      api.followers.at(19_999),
      api.followers.at(29_999),
    ]);
  });
});

describe('values that are not shaped like an OpenID', () => {
  it('in a page or as next_openid: retried, then exit 5, the value shown escaped in every message', async () => {
    for (const bad of [
      (normal: Record<string, unknown>) => ({ ...normal, data: { openid: [...openidsOf(normal).slice(0, -1), 'oWx\u001b[2J\u0007bad'] } }),
      (normal: Record<string, unknown>) => ({ ...normal, next_openid: 'oWx\u001b]0;pwned\u0007' }),
    ]) {
      const api = await fake({ followers: 30_000, listAnswer: (normal, page) => (page === 1 ? bad(normal) : undefined) });
      const result = await exportFrom(api, ['--retries', '1']);
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(
        /malformed: `(data\.openid` holds|next_openid` is) 'oWx\\u\{1b\}.*', which is not an OpenID .*\(Gave up after 1 retry\.\)/,
      );
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may reach a message.
      expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
      expect(listCalls(api)).toHaveLength(3);
      expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 10_000)));
    }
  });
});

describe('a batchget answer that does not fit the batch asked', () => {
  const stranger = 'oWx-Stranger_000000000000000';
  const withStranger = (normal: { user_info_list: Record<string, unknown>[] }): object => ({
    user_info_list: [...normal.user_info_list.slice(1), { subscribe: 1, openid: stranger }],
  });

  it('is retried like a failed call, and the export is whole', async () => {
    let given = 0;
    const api = await fake({ followers: 250, detailsAnswer: (normal) => (given++ === 1 ? withStranger(normal) : undefined) });
    const result = await exportFrom(api, ['--with-info', '--format', 'ndjson', '--concurrency', '1']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const openids = result.stdout
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { openid: string }).openid);
    expect(openids).toEqual(allOpenids(api.followers));
    expect(batchgetCalls(api)).toHaveLength(4);
  });

  it('every time (an OpenID not asked for, or one missing): exit 5 once --retries are spent, saying what to do', async () => {
    const missing = (normal: { user_info_list: Record<string, unknown>[] }): object => ({ user_info_list: normal.user_info_list.slice(1) });
    for (const [bad, what] of [
      [withStranger, `an entry for '${stranger}', an OpenID that was not asked for`],
      [missing, 'no entry for oWx-Fake_000000000000000002s, an OpenID asked for'],
    ] as const) {
      // The first batch answers well, the second never.
      const api = await fake({
        followers: 250,
        detailsAnswer: (normal) => (normal.user_info_list[0]?.['openid'] === 'oWx-Fake_0000000000000000000' ? undefined : bad(normal)),
      });
      const result = await exportFrom(api, ['--with-info', '--format', 'ndjson', '--concurrency', '1', '--retries', '2']);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(
        `answer to /cgi-bin/user/info/batchget is malformed: ${what}. The API answered this batch inconsistently on every try`,
      );
      expect(result.stderr).toMatch(
        /\(Gave up after 2 retries\.\)\nwx-followers: 100 OpenIDs written\. To continue, run again with --resume/,
      );
      expect(resumeCursor(result.stderr)).toBe(api.followers.at(99));
      expect(result.stderr).not.toMatch(/try again later/i);
      expect(batchgetCalls(api)).toHaveLength(4);
    }
  });
});

describe('stable_token answers', () => {
  it('without expires_in, or with it as a string: the token is used and cached for 7200 s', async () => {
    for (const answer of [
      (normal: Record<string, unknown>) => ({ access_token: normal['access_token'] }),
      (normal: Record<string, unknown>) => ({ ...normal, expires_in: '7200' }),
    ]) {
      const api = await fake({ followers: 3, stableTokenAnswer: answer });
      const dir = await tempDir();
      const before = Date.now();
      const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir, APP) });
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
      const cache = (
        JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { 'token-cache': Record<string, { expiresAt: number }> }
      )['token-cache'];
      const expiresAt = cache[FAKE_APPID]?.expiresAt ?? 0;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 7_200_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7_200_000);
    }
  });

  it('without an access_token: says that, and only that', async () => {
    const api = await fake({ followers: 3, stableTokenAnswer: () => ({ expires_in: 7200 }) });
    const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(await tempDir(), APP) });
    expect(result.code).toBe(5);
    expect(result.stderr).toBe('wx-followers: The API answered stable_token without an access_token. Try again later.\n');
  });

  it('a token refused right after its renewal (exit 3) is not left in the cache for the next run', async () => {
    // Every token the fake issues is expired from its first call.
    const api = await fake({ followers: 3, tokenLifetimeCalls: 0 });
    const dir = await tempDir();
    const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir, APP) });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refused the access token just renewed/);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { 'token-cache'?: Record<string, unknown> };
    expect(config['token-cache']?.[FAKE_APPID]).toBeUndefined();
  });
});

describe('waits and what the answers carry', () => {
  it('a long wait met by every call in flight at once is announced once', async () => {
    const api = await fake({
      followers: 800,
      latencyMs: 5,
      errorHeaders: { 'retry-after': '300' },
      // Each of the first 8 batches, all in flight together, meets the same 503.
      fault: (call) =>
        call.path === '/cgi-bin/user/info/batchget' && batchgetCalls(api).indexOf(call) < 8 ? { kind: 'status', status: 503 } : undefined,
    });
    // Waits a hundredth of real (3 s for the 5 min): the 8 answers meet the wait together however
    // loaded the machine, where a thousandth (0.3 s) let a late one be announced again.
    const result = await exportFrom(api, ['--with-info', '--format', 'ndjson', '--concurrency', '8'], { WX_FOLLOWERS_DELAY_SCALE: '0.01' });
    expect(result.code).toBe(0);
    expect(batchgetCalls(api)).toHaveLength(16);
    expect(result.stderr).toBe('wx-followers: retrying after a network or server error: waiting 5 min before trying again.\n');
  });

  it('a long errmsg is cut in the middle, keeping its rid', async () => {
    const api = await fake({ followers: 3, fault: () => ({ kind: 'errcode', errcode: 99999, errmsg: `system error ${'x'.repeat(400)}` }) });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/errcode 99999: system error x+\.\.\.x+ rid: 6543210f-0a1b2c3d-99999\)/);
  });

  it('a JSON body after a UTF-8 BOM is read', async () => {
    const api = await fake({ followers: 3, listAnswer: (normal) => `\ufeff${JSON.stringify(normal)}` });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
  });

  it('an errcode given as a string is read as its number', async () => {
    const api = await fake({
      followers: 3,
      fault: () => ({ kind: 'raw', body: '{"errcode":"45009","errmsg":"reach max api daily quota limit"}' }),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/daily quota for this API is spent \(errcode 45009/);
  });
});
