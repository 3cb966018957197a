import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, everyNth, generatedFollowers } from './fake-api/followers.js';
import type { FakeApi, RecordedCall } from './fake-api/server.js';
import { cleanEnv, exportFrom, lines, resumeCursor, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

/** A page of the follower list with its data and without `next_openid`. */
function withoutNextOpenid({ next_openid: _dropped, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}

function listCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/get');
}

describe('cursor cycles', () => {
  it('stop with exit 5 at the first cursor seen twice (A -> B -> A), naming it, with no page written twice', async () => {
    // Page 2 hands back page 0's cursor; the quota only bounds the damage of a miss.
    const api = await fake({ followers: 50_000, cursorCycle: { from: 2, to: 0 }, dailyQuota: 12 });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      new RegExp(
        `page of the follower list after ${api.followers.at(19_999)} gave ${api.followers.at(9_999)} as its next_openid, a cursor already seen .*round in a circle`,
      ),
    );
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 20_000)));
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(19_999));
    expect(listCalls(api)).toHaveLength(3);
  });
});

describe('a page with data and no next_openid', () => {
  it('is retried like any failed answer, and the export is whole', async () => {
    let omitted = 0;
    const api = await fake({
      followers: 30_000,
      listAnswer: (normal, page) => (page === 1 && omitted++ === 0 ? withoutNextOpenid(normal) : undefined),
    });
    const result = await exportFrom(api);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(listCalls(api).map((call) => call.query.get('next_openid'))).toEqual([
      null,
      api.followers.at(9_999),
      api.followers.at(9_999),
      api.followers.at(19_999),
      api.followers.at(29_999),
    ]);
  });

  it('is never taken for the end: exit 5 once --retries are spent, with the cursor', async () => {
    const api = await fake({ followers: 30_000, listAnswer: (normal, page) => (page === 1 ? withoutNextOpenid(normal) : undefined) });
    const result = await exportFrom(api, ['--retries', '2']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/malformed: a page of OpenIDs without `next_openid`.*\(Gave up after 2 retries\.\)/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 10_000)));
    expect(listCalls(api)).toHaveLength(4);
  });
});

describe('a huge answer', () => {
  it.each([
    ['streamed without a length', false],
    ['with its Content-Length', true],
  ])('(%s) is read no further than the cap: exit 5, memory bounded', async (_name, declared) => {
    const api = await fake({
      followers: 10,
      fault: (call) => (call.path === '/cgi-bin/user/get' ? { kind: 'huge', bytes: 300 * 1024 * 1024, declared } : undefined),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/answer of http:\/\/127\.0\.0\.1:\d+ to \/cgi-bin\/user\/get is larger than 8 MiB.*stopped reading it/);
    // Not retried: the same call would bring the same.
    expect(listCalls(api)).toHaveLength(1);
    // What the server got to write before the client hung up: the cap, and the socket buffers.
    expect(api.hugeBytesWritten()).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('messages that say what happened', () => {
  it('HTTP 404 names --base-url, is not retried and does not say to try again later', async () => {
    const api = await fake({ followers: 10, fault: () => ({ kind: 'status', status: 404 }) });
    const result = await runCli(['export', '--base-url', `${api.url}/wrong-prefix`], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: 'FAKE_TOKEN_valid_0123456789' }),
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/HTTP 404 to \/wrong-prefix\/cgi-bin\/user\/get at http:\/\/127\.0\.0\.1:\d+: .*Check --base-url/);
    expect(result.stderr).not.toMatch(/try again later/i);
    expect(api.calls).toHaveLength(1);
  });

  it('40003 after a --resume value names it and does not suggest the same --resume again', async () => {
    const api = await fake({ followers: 10 });
    const unknown = 'oWx-Unknown_0000000000000000';
    const result = await exportFrom(api, ['--resume', unknown]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(new RegExp(`does not know ${unknown}, the OpenID the follower list was to go on after \\(errcode 40003`));
    expect(result.stderr).toMatch(/give --resume an OpenID that an earlier export of the same list/);
    expect(result.stderr).not.toMatch(/run again with --resume/);
  });

  it("49003 after a --resume value says it is another account's, and does not suggest the same --resume again", async () => {
    const foreign = 'oWx-OtherAccount_00000000000';
    const api = await fake({
      followers: 10,
      fault: (call) =>
        call.query.get('next_openid') === foreign ? { kind: 'errcode', errcode: 49003, errmsg: 'invalid openid hint' } : undefined,
    });
    const result = await exportFrom(api, ['--resume', foreign]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `The API says ${foreign}, the OpenID the follower list was to go on after, belongs to another account (errcode 49003: invalid openid hint rid: `,
    );
    expect(result.stderr).toMatch(/continue that export with its own account's credentials, or leave --resume out/);
    expect(result.stderr).not.toMatch(/run again with --resume|try again later/i);
    expect(listCalls(api)).toHaveLength(1);
  });

  it.each([
    [
      40003,
      /does not know oWx-Unknown_0000000000000000, the OpenID the follower list was to go on after/,
      /the state file .* holds it: .*Remove the state file/,
    ],
    [
      49003,
      /oWx-Unknown_0000000000000000, the OpenID the follower list was to go on after, belongs to another account/,
      /the state file .* holds it, from an export of another account: run it with that account's credentials, or remove the state file/,
    ],
  ])('%i on the cursor a --state file holds says to start afresh, not to run the same command again', async (errcode, what, advice) => {
    const api = await fake({ followers: 10, ...(errcode === 40003 ? {} : { fault: () => ({ kind: 'errcode', errcode }) }) });
    const dir = await tempDir();
    const output = join(dir, 'followers.txt');
    const statePath = join(dir, 'followers.state');
    const now = new Date().toISOString();
    const unknown = 'oWx-Unknown_0000000000000000';
    const state = {
      version: 1,
      output,
      format: 'text',
      list: 'follower list',
      withInfo: false,
      cursor: unknown,
      written: 5,
      // FILE.partial ends with the cursor, as the run checks before any call.
      outputBytes: unknown.length + 1,
      total: 10,
      startedAt: now,
      updatedAt: now,
      done: false,
    };
    await writeFile(statePath, JSON.stringify(state));
    await writeFile(`${output}.partial`, `${unknown}\n`);
    const result = await exportFrom(api, ['--state', statePath, '-o', output]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(what);
    expect(result.stderr).toMatch(advice);
    expect(result.stderr).not.toMatch(/run the same command with the same --state again/);
  });

  it('40003 on the first page of a tag, and from batchget, say so', async () => {
    const followers = generatedFollowers(300);
    const tagged = await fake({
      followers,
      tags: [{ id: 2, name: 'vip', members: everyNth(followers, 3) }],
      fault: (call) => (call.path === '/cgi-bin/user/tag/get' ? { kind: 'errcode', errcode: 40003 } : undefined),
    });
    const tag = await exportFrom(tagged, ['--tag', '2']);
    expect(tag.code).toBe(5);
    expect(tag.stderr).toMatch(
      /first page of the followers with tag 2 as if it named an unknown OpenID \(errcode 40003.*though it named none/,
    );

    const details = await fake({
      followers,
      fault: (call) => (call.path === '/cgi-bin/user/info/batchget' ? { kind: 'errcode', errcode: 40003 } : undefined),
    });
    const info = await exportFrom(details, ['--with-info']);
    expect(info.code).toBe(5);
    expect(info.stderr).toMatch(/refused the details of a batch of 100 OpenIDs that its own list had just given \(errcode 40003/);
    expect(info.stderr).not.toMatch(/--resume value/);
  });

  it('a --state run stopped before its first page mentions no FILE.partial, for there is none', async () => {
    const api = await fake({ followers: 10, fault: () => ({ kind: 'errcode', errcode: 45009 }) });
    const dir = await tempDir();
    const output = join(dir, 'followers.txt');
    const result = await exportFrom(api, ['--state', join(dir, 'followers.state'), '-o', output]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/0 OpenIDs written\. To continue, run the same command with the same --state again/);
    expect(result.stderr).not.toMatch(/kept in/);
    await expect(stat(`${output}.partial`)).rejects.toThrow();
  });

  it('counts one OpenID and one retry in the singular', async () => {
    const api = await fake({
      followers: 3,
      pageSize: 1,
      fault: (call) => (call.index >= 2 ? { kind: 'errcode', errcode: -1 } : undefined),
    });
    const result = await exportFrom(api, ['--retries', '1']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/\(Gave up after 1 retry\.\)\nwx-followers: 1 OpenID written\. To continue/);
  });

  it('--limit equal to the list says nothing of continuing; one short of it does', async () => {
    const whole = await fake({ followers: 20_000 });
    const exact = await exportFrom(whole, ['--limit', '20000']);
    expect([exact.code, exact.stderr]).toEqual([0, '']);
    expect(exact.stdout.toString()).toBe(lines(allOpenids(whole.followers)));
    const short = await exportFrom(whole, ['--limit', '10000']);
    expect(short.code).toBe(0);
    expect(short.stderr).toMatch(
      new RegExp(`stopped at --limit 10000\\. To continue, run again with --resume ${whole.followers.at(9_999)}`),
    );
    expect(short.stdout.toString()).toBe(lines(allOpenids(whole.followers).slice(0, 10_000)));
  });

  it('announces a long wait once on stderr without a terminal, and not with -q', async () => {
    const api = await fake({
      followers: 10,
      errorHeaders: { 'retry-after': '3600' },
      fault: (call) => (call.index === 1 ? { kind: 'status', status: 503 } : undefined),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('wx-followers: retrying after a network or server error: waiting 5 min before trying again.\n');
    const quiet = await exportFrom(api, ['-q']);
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
  });

  it('shows an errmsg with its control characters escaped', async () => {
    const api = await fake({
      followers: 10,
      fault: () => ({ kind: 'errcode', errcode: 99999, errmsg: 'bad\u001b[2J\u001b]0;pwned\u0007\nline' }),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('errcode 99999: bad\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{a}line');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may reach a message.
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe('no Node warnings, whatever the options', () => {
  it('--with-info --concurrency 32 prints nothing on stderr', async () => {
    const api = await fake({ followers: 5_000, latencyMs: 5 });
    const result = await exportFrom(api, ['--with-info', '--concurrency', '32', '--format', 'ndjson']);
    expect([result.code, result.stderr]).toEqual([0, '']);
  });

  it('refuses a --timeout past what a timer holds with exit 2, before any call', async () => {
    const api = await fake({ followers: 10 });
    const result = await exportFrom(api, ['--timeout', '3000000000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('wx-followers: --timeout is too large: it is at most 2147483647; got 3000000000.\n');
    expect(api.calls).toHaveLength(0);
    const largest = await exportFrom(api, ['--timeout', '2147483647']);
    expect([largest.code, largest.stderr]).toEqual([0, '']);
  });
});
