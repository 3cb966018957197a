import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, listedFollowers } from './fake-api/followers.js';
import { FAKE_TOKEN } from './fake-api/server.js';
import {
  BIN,
  cleanEnv,
  expectOwnerOnly,
  exportFrom,
  lines,
  onLinux,
  onPosix,
  resumeCursor,
  runCli,
  runProcess,
  tempDir,
  type CliResult,
} from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

describe('formats, exact to the byte', () => {
  const three = ['oAAAAAAAAAAAAAAAAAAAAAAAAAA1', 'oBB-BBBBBBBBBBBBBBBBBBBBBB_2', 'oCCCCCCCCCCCCCCCCCCCCCCCCCC3'];

  it.each([
    ['text is one OpenID a line', [], 'oAAAAAAAAAAAAAAAAAAAAAAAAAA1\noBB-BBBBBBBBBBBBBBBBBBBBBB_2\noCCCCCCCCCCCCCCCCCCCCCCCCCC3\n'],
    [
      'csv is a header and one row a line',
      ['--format', 'csv'],
      'openid\noAAAAAAAAAAAAAAAAAAAAAAAAAA1\noBB-BBBBBBBBBBBBBBBBBBBBBB_2\noCCCCCCCCCCCCCCCCCCCCCCCCCC3\n',
    ],
    [
      'ndjson is one object a line',
      ['-f', 'ndjson'],
      '{"openid":"oAAAAAAAAAAAAAAAAAAAAAAAAAA1"}\n{"openid":"oBB-BBBBBBBBBBBBBBBBBBBBBB_2"}\n{"openid":"oCCCCCCCCCCCCCCCCCCCCCCCCCC3"}\n',
    ],
  ])('%s', async (_name, args, expected) => {
    const api = await fake({ followers: listedFollowers(three) });
    const result = await exportFrom(api, args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(expected);
  });

  it('an account with no followers is an empty text file and a CSV with its header only', async () => {
    const api = await fake({ followers: 0 });
    const text = await exportFrom(api);
    expect([text.code, text.stdout.toString()]).toEqual([0, '']);
    const csv = await exportFrom(api, ['--format', 'csv']);
    expect([csv.code, csv.stdout.toString()]).toEqual([0, 'openid\n']);
  });
});

describe('pagination', () => {
  it.each([
    [1, 2],
    [10_000, 2],
    [10_001, 3],
    [23_000, 4],
  ])('exports all %i followers in %i calls, ending on the page without data', async (size, expectedCalls) => {
    const api = await fake({ followers: size });
    const result = await exportFrom(api);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(api.calls).toHaveLength(expectedCalls);
  });

  it('sends no next_openid on the first call and the previous next_openid after', async () => {
    const api = await fake({ followers: 23_000 });
    const result = await exportFrom(api);
    expect(result.code).toBe(0);
    expect(api.calls[0]?.rawQuery).not.toContain('next_openid');
    expect(api.calls.slice(1).map((call) => call.query.get('next_openid'))).toEqual([
      api.followers.at(9_999),
      api.followers.at(19_999),
      api.followers.at(22_999),
    ]);
  });

  it('skips the empty strings the API puts in a page', async () => {
    const api = await fake({ followers: 3, emptyStringInFirstPage: true });
    const result = await exportFrom(api, ['--format', 'csv']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it('stops with exit 5 when the API hands back the cursor it was sent', async () => {
    const api = await fake({ followers: 30_000, repeatCursorFromPage: 1 });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/cursor already seen in this run: its pages go round in a circle/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(api.calls).toHaveLength(2);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 10_000)));
  });
});

describe('--limit and --resume', () => {
  it('stops in the middle of a page and names the cursor, even when stderr is not a TTY', async () => {
    const api = await fake({ followers: 23_000 });
    const result = await exportFrom(api, ['--limit', '12345']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 12_345)));
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(12_344));
    expect(api.calls).toHaveLength(2);
  });

  it('says nothing at --limit with --quiet', async () => {
    const api = await fake({ followers: 100 });
    const result = await exportFrom(api, ['--limit', '10', '--quiet']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.toString().split('\n')).toHaveLength(11);
  });

  it('resumes from the middle: both runs together are the whole list, once, with one CSV header', async () => {
    const api = await fake({ followers: 23_000 });
    const first = await exportFrom(api, ['--format', 'csv', '--limit', '15000']);
    const second = await exportFrom(api, ['--format', 'csv', '--resume', resumeCursor(first.stderr)]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stderr).toBe('');
    expect(first.stdout.toString() + second.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it.each(['', 'has space', 'a/b', 'x'.repeat(65), 'o#1'])('refuses --resume %j before any request', async (value) => {
    const api = await fake({ followers: 10 });
    const result = await exportFrom(api, [`--resume=${value}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--resume/);
    expect(api.calls).toHaveLength(0);
  });

  it.each(['0', '-3', '1.5', 'ten'])('refuses --limit %s', async (value) => {
    const api = await fake({ followers: 10 });
    const result = await exportFrom(api, [`--limit=${value}`]);
    expect(result.code).toBe(2);
    expect(api.calls).toHaveLength(0);
  });
});

describe('--output', () => {
  it('writes through FILE.partial and renames it when complete', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const result = await exportFrom(api, ['--format', 'csv', '--output', file]);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    await expect(stat(`${file}.partial`)).rejects.toThrow();
  });

  it('leaves a good FILE alone when a run fails, keeps FILE.partial, and a resume appends to it', async () => {
    let failing = true;
    const api = await fake({
      followers: 23_000,
      fault: (call) => (failing && call.index >= 3 ? { kind: 'errcode', errcode: -1, errmsg: 'system error' } : undefined),
    });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    await writeFile(file, 'yesterday\n');
    const failed = await exportFrom(api, ['--format', 'csv', '-o', file]);
    expect(failed.code).toBe(5);
    expect(await readFile(file, 'utf8')).toBe('yesterday\n');
    expect(await readFile(`${file}.partial`, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers).slice(0, 20_000))}`);
    const cursor = resumeCursor(failed.stderr);
    expect(cursor).toBe(api.followers.at(19_999));

    failing = false;
    const resumed = await exportFrom(api, ['--format', 'csv', '-o', file, '--resume', cursor]);
    expect(resumed.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    await expect(stat(`${file}.partial`)).rejects.toThrow();
  });

  it('continues a file that a --limit run finished when resumed into the same --output', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const file = join(dir, 'followers.ndjson');
    const first = await exportFrom(api, ['-f', 'ndjson', '-o', file, '--limit', '5000']);
    expect(first.code).toBe(0);
    const second = await exportFrom(api, ['-f', 'ndjson', '-o', file, '--resume', resumeCursor(first.stderr)]);
    expect(second.code).toBe(0);
    const expected = allOpenids(api.followers)
      .map((openid) => `{"openid":"${openid}"}\n`)
      .join('');
    expect(await readFile(file, 'utf8')).toBe(expected);
  });

  it("exits 2 when the output's folder is missing, without calling the API and without a stack trace", async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const result = await exportFrom(api, ['-o', join(dir, 'missing-dir', 'followers.txt')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the folder .*missing-dir does not exist/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(api.calls).toHaveLength(0);
  });

  it('leaves no empty FILE.partial behind when the first call fails', async () => {
    const api = await fake({ followers: 10, token: 'ANOTHER_TOKEN_1234' });
    const dir = await tempDir();
    const file = join(dir, 'followers.txt');
    const result = await exportFrom(api, ['-o', file]);
    expect(result.code).toBe(3);
    await expect(stat(`${file}.partial`)).rejects.toThrow();
    await expect(stat(file)).rejects.toThrow();
  });
});

describe('exit codes and messages', () => {
  it.each([
    [40001, 3, /refused the access token \(errcode 40001: /],
    [40014, 3, /access token is not valid \(errcode 40014/],
    [42001, 3, /expired \(errcode 42001/],
    [40164, 3, /IP whitelist/],
    [48001, 3, /no permission.*\(errcode 48001/],
    [45009, 4, /daily quota.*midnight Beijing time/],
    [45011, 4, /too many calls this minute/],
    [-1, 5, /busy \(errcode -1/],
    [40003, 5, /first page of the follower list as if it named an unknown OpenID \(errcode 40003.*though it named none/],
    [99999, 5, /errcode 99999: fault rid: 6543210f/],
  ])('errcode %i exits %i and says what happened', async (errcode, exitCode, message) => {
    const api = await fake({ followers: 10, fault: () => ({ kind: 'errcode', errcode }) });
    const result = await exportFrom(api);
    expect(result.code).toBe(exitCode);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/rid: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['HTTP 502', { kind: 'status', status: 502 } as const, /HTTP 502/],
    ['a body cut off', { kind: 'raw', body: '{"total":10,"count":10,"data":{"openid":["oA' } as const, /not JSON/],
    ['a body that is not an object', { kind: 'raw', body: '[1,2]' } as const, /not a JSON object/],
    ['a malformed list', { kind: 'raw', body: '{"total":1,"count":1,"data":{"openid":"oA"}}' } as const, /malformed/],
    ['a reset connection', { kind: 'reset' } as const, /Could not talk to/],
  ])('%s exits 5', async (_name, fault, message) => {
    const api = await fake({ followers: 10, fault: () => fault });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(message);
  });

  it('a connection refused exits 5', async () => {
    const api = await fake({ followers: 1 });
    const url = api.url;
    await api.close();
    const result = await runCli(['export', '--base-url', url], { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });

  it('a JSON answer with a text/plain Content-Type is read all the same', async () => {
    const api = await fake({
      followers: 0,
      // The page, then the answer that ends the list, both as text/plain.
      fault: (call) => ({
        kind: 'raw',
        body:
          call.index === 1 ? '{"total":1,"count":1,"data":{"openid":["oX"]},"next_openid":"oX"}' : '{"total":1,"count":0,"next_openid":""}',
      }),
    });
    const result = await exportFrom(api);
    expect([result.code, result.stdout.toString()]).toEqual([0, 'oX\n']);
  });

  it('exits 2 for an unknown option and a bad format', async () => {
    const unknown = await runCli(['export', '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const format = await runCli(['export', '--format', 'xml'], { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: 'x' }) });
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/text, csv, ndjson/);
  });

  it('exits 2 without a token, naming the three ways to give one', async () => {
    const api = await fake({ followers: 1 });
    const result = await runCli(['export', '--base-url', api.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--access-token/);
    expect(result.stderr).toMatch(/WX_ACCESS_TOKEN/);
    expect(result.stderr).toMatch(/config set access-token/);
    expect(api.calls).toHaveLength(0);
  });

  it.each(['http://api.weixin.qq.com', 'http://10.0.0.1:8080', 'ftp://127.0.0.1', 'not a url'])(
    'refuses the insecure or bad --base-url %s with exit 2',
    async (url) => {
      const result = await runCli(['export', '--base-url', url], {
        env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/base URL/);
    },
  );

  it('takes the base URL from WX_API_BASE_URL', async () => {
    const api = await fake({ followers: 2 });
    const result = await runCli(['export'], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN, WX_API_BASE_URL: api.url }),
    });
    expect([result.code, result.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
  });
});

describe('the access token', () => {
  const right = FAKE_TOKEN;
  const wrong = 'WRONG_TOKEN_that_the_fake_refuses';

  async function withConfig(token: string): Promise<string> {
    const dir = await tempDir();
    const set = await runCli(['config', 'set', 'access-token', token], { env: cleanEnv(dir) });
    expect(set.code).toBe(0);
    return dir;
  }

  it('comes from --access-token before WX_ACCESS_TOKEN before the config store', async () => {
    const api = await fake({ followers: 2 });
    const args = ['export', '--base-url', api.url];
    const flagWins = await runCli([...args, '-t', right], { env: cleanEnv(await withConfig(wrong), { WX_ACCESS_TOKEN: wrong }) });
    expect(flagWins.code).toBe(0);
    const flagIsUsed = await runCli([...args, '-t', wrong], { env: cleanEnv(await withConfig(right), { WX_ACCESS_TOKEN: right }) });
    expect(flagIsUsed.code).toBe(3);
    const envWins = await runCli(args, { env: cleanEnv(await withConfig(wrong), { WX_ACCESS_TOKEN: right }) });
    expect(envWins.code).toBe(0);
    const envIsUsed = await runCli(args, { env: cleanEnv(await withConfig(right), { WX_ACCESS_TOKEN: wrong }) });
    expect(envIsUsed.code).toBe(3);
    const fromConfig = await runCli(args, { env: cleanEnv(await withConfig(right)) });
    expect([fromConfig.code, fromConfig.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
  });

  it("reads the token from stdin with '-'", async () => {
    const api = await fake({ followers: 2 });
    const env = cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: wrong });
    const result = await runCli(['export', '--base-url', api.url, '--access-token', '-'], { env, stdin: `${right}\n` });
    expect([result.code, result.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
    expect(api.calls[0]?.query.get('access_token')).toBe(right);
  });

  it('never shows the token on stdout or stderr, on any error path', async () => {
    const secret = 'SECRET_TOKEN_e2b1c9d8f7a6_never_print_me';
    const faults = [
      { kind: 'errcode', errcode: 40001 },
      { kind: 'errcode', errcode: 45009 },
      { kind: 'errcode', errcode: -1 },
      { kind: 'status', status: 500, body: `token ${secret}` },
      { kind: 'raw', body: `not json ${secret}` },
      { kind: 'reset' },
      { kind: 'errcode', errcode: 40001, errmsg: `invalid credential access_token=${secret}` },
    ] as const;
    for (const fault of faults) {
      const api = await fake({ followers: 10, token: secret, fault: () => fault });
      const result = await exportFrom(api, [], { WX_ACCESS_TOKEN: secret });
      expect(result.code).not.toBe(0);
      expect(result.stderr).not.toContain(secret);
      expect(result.stdout.toString()).not.toContain(secret);
    }
    const dir = await tempDir();
    const insecure = await runCli(['export', '--base-url', 'http://example.com', '-t', secret], { env: cleanEnv(dir) });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr + insecure.stdout.toString()).not.toContain(secret);
  });
});

describe('pipes and progress', () => {
  // bash's `| head -1` and PIPESTATUS: Windows has neither.
  it.runIf(onPosix)('ends at once when the reader goes away (| head -1): no call past the page read ahead, no stack trace', async () => {
    const api = await fake({ followers: 50_000 });
    const dir = await tempDir();
    const result = await runProcess(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" export --base-url ${api.url} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`],
      { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) },
    );
    expect(result.stdout.toString()).toBe(`${api.followers.at(0)}\n`);
    expect(result.stderr).toBe('exit=1\n');
    // The second page may have been asked for while the first was written (test/speed-paths.test.ts).
    expect(api.calls.length).toBeLessThanOrEqual(2);
  });

  it('prints nothing on stderr on success when stderr is not a TTY', async () => {
    const api = await fake({ followers: 23_000 });
    const result = await exportFrom(api, ['--format', 'csv']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  // A terminal made by util-linux's `script -qec`: macOS's takes other flags, Windows has none.
  it.runIf(onLinux)('colours the spinner on a real terminal, and not under NO_COLOR', async () => {
    const api = await fake({ followers: 23_000 });
    const output = join(await tempDir(), 'followers.txt');
    // With -o, stdout is the terminal too, as when a person runs it; ora colours only then.
    const inPty = async (extra: Record<string, string>): Promise<CliResult> =>
      runProcess(
        'script',
        ['-qec', `stty cols 80 rows 24; "${process.execPath}" "${BIN}" export --base-url ${api.url} -o ${output}`, '/dev/null'],
        { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN, TERM: 'xterm-256color', ...extra }) },
      );
    const coloured = await inPty({});
    expect(coloured.code).toBe(0);
    expect(coloured.stdout.toString()).toMatch(/Exported 23,000 OpenIDs/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour sequence looked for.
    expect(coloured.stdout.toString()).toMatch(/\x1b\[3\dm/);
    const plain = await inPty({ NO_COLOR: '1' });
    expect(plain.code).toBe(0);
    expect(plain.stdout.toString()).toMatch(/Exported 23,000 OpenIDs/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour sequence looked for.
    expect(plain.stdout.toString()).not.toMatch(/\x1b\[3\dm/);
  });

  it('makes all its calls over one kept-alive connection', async () => {
    const api = await fake({ followers: 50_000 });
    const result = await exportFrom(api);
    expect(result.code).toBe(0);
    expect(api.calls).toHaveLength(6);
    expect(api.connections()).toBe(1);
  });
});

describe('config', () => {
  it('stores values in a 0600 file, masks secrets, reveals on request, and unsets', async () => {
    const dir = await tempDir();
    const env = cleanEnv(dir);
    const token = 'TOKEN_abcdefghijklmnop_WXYZ';
    expect((await runCli(['config', 'set', 'access-token', token], { env })).code).toBe(0);
    expect((await runCli(['config', 'set', 'appid', 'wx1234567890abcdef'], { env })).code).toBe(0);
    const path = (await runCli(['config', 'path'], { env })).stdout.toString().trim();
    expect(path).toBe(join(dir, 'config.json'));
    await expectOwnerOnly(path);

    const list = await runCli(['config', 'list'], { env });
    expect(list.stdout.toString()).toBe('access-token=********\nappid=wx1234567890abcdef\n');
    // Not even its last characters.
    expect(list.stdout.toString()).not.toContain('WXYZ');
    expect((await runCli(['config', 'get', 'access-token'], { env })).stdout.toString()).toBe('********\n');
    expect((await runCli(['config', 'get', 'access-token', '--reveal'], { env })).stdout.toString()).toBe(`${token}\n`);
    expect((await runCli(['config', 'get', 'appid'], { env })).stdout.toString()).toBe('wx1234567890abcdef\n');

    expect((await runCli(['config', 'set', 'secret', '-'], { env, stdin: 'the-app-secret-value\n' })).code).toBe(0);
    expect((await runCli(['config', 'get', 'secret', '--reveal'], { env })).stdout.toString()).toBe('the-app-secret-value\n');
    await expectOwnerOnly(path);

    expect((await runCli(['config', 'unset', 'access-token'], { env })).code).toBe(0);
    const unset = await runCli(['config', 'get', 'access-token'], { env });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/not set/);
  });

  it('refuses unknown keys and an insecure base-url with exit 2', async () => {
    const env = cleanEnv(await tempDir());
    const unknown = await runCli(['config', 'set', 'colour', 'blue'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/access-token, appid, secret, base-url/);
    const insecure = await runCli(['config', 'set', 'base-url', 'http://api.weixin.qq.com'], { env });
    expect(insecure.code).toBe(2);
  });

  it('takes base-url from the config store after the flag and env', async () => {
    const api = await fake({ followers: 1 });
    const dir = await tempDir();
    expect((await runCli(['config', 'set', 'base-url', api.url], { env: cleanEnv(dir) })).code).toBe(0);
    const result = await runCli(['export'], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect([result.code, result.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
  });

  it('tightens a config file that was made readable by others', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'config.json');
    await writeFile(path, '{}', { mode: 0o644 });
    expect((await runCli(['config', 'set', 'appid', 'wx1234567890abcdef'], { env: cleanEnv(dir) })).code).toBe(0);
    await expectOwnerOnly(path);
  });
});
