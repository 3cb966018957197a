import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi, type FakeApiOptions, type RecordedCall } from './fake-api/server.js';
import { secretFingerprint } from '../src/out/config-store.js';
import { cleanEnv, expectOwnerOnly, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

// The legacy endpoint retires the production server's token: no test may ever see it called.
const fake = useFakes((apis) => {
  for (const api of apis) expect(api.calls.filter((call) => call.path === '/cgi-bin/token')).toEqual([]);
});

const APP = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };

function stableCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/stable_token');
}

function listCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/get');
}

async function exportWith(api: FakeApi, env: Record<string, string>, args: string[] = [], dir?: string): Promise<CliResult> {
  return runCli(['export', '--base-url', api.url, ...args], { env: cleanEnv(dir ?? (await tempDir()), env) });
}

describe('a token from the AppID and AppSecret', () => {
  it('is fetched from stable_token in normal mode, with the secret in the body and never in a URL', async () => {
    const api = await fake({ followers: 23_000 });
    const result = await exportWith(api, APP);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    const [stable, ...more] = stableCalls(api);
    expect(more).toEqual([]);
    expect(stable?.method).toBe('POST');
    expect(JSON.parse(stable?.body ?? '')).toEqual({
      grant_type: 'client_credential',
      appid: FAKE_APPID,
      secret: FAKE_SECRET,
      force_refresh: false,
    });
    for (const call of api.calls) expect(call.rawQuery).not.toContain(FAKE_SECRET);
    expect(listCalls(api).every((call) => call.query.get('access_token')?.startsWith('FAKE_STABLE_TOKEN_1'))).toBe(true);
  });

  it('is cached per AppID, reused by the next run without a token request, in a file that stays 0600', async () => {
    const api = await fake({ followers: 5 });
    const dir = await tempDir();
    expect((await exportWith(api, APP, [], dir)).code).toBe(0);
    expect(stableCalls(api)).toHaveLength(1);
    const second = await exportWith(api, APP, [], dir);
    expect([second.code, second.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
    expect(stableCalls(api)).toHaveLength(1);
    await expectOwnerOnly(join(dir, 'config.json'));

    const other = await fake({ followers: 2, appid: 'wx0ther0000000000', secret: 'OTHER_SECRET_0000' });
    const otherRun = await exportWith(other, { WX_APPID: 'wx0ther0000000000', WX_SECRET: 'OTHER_SECRET_0000' }, [], dir);
    expect(otherRun.code).toBe(0);
    expect(stableCalls(other)).toHaveLength(1);
    const cache = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { 'token-cache': object };
    expect(Object.keys(cache['token-cache']).sort()).toEqual([FAKE_APPID, 'wx0ther0000000000'].sort());
  });

  it('is not taken from the cache in its last five minutes', async () => {
    const api = await fake({ followers: 1 });
    for (const [minutesLeft, expectedCalls] of [
      [10, 0],
      [4, 1],
    ] as const) {
      const dir = await tempDir();
      const cache = {
        [FAKE_APPID]: {
          accessToken: FAKE_TOKEN,
          expiresAt: Date.now() + minutesLeft * 60_000,
          secretSha256: secretFingerprint({ appid: FAKE_APPID, secret: FAKE_SECRET }),
        },
      };
      await writeFile(join(dir, 'config.json'), JSON.stringify({ 'token-cache': cache }), { mode: 0o600 });
      const before = stableCalls(api).length;
      expect((await exportWith(api, APP, [], dir)).code).toBe(0);
      expect(stableCalls(api).length - before).toBe(expectedCalls);
    }
  });

  it('is renewed when it expires in the middle of a 50,000-follower export, losing and repeating nothing', async () => {
    const api = await fake({ followers: 50_000, pageSize: 5_000, tokenLifetimeCalls: 3 });
    const result = await exportWith(api, APP, ['--format', 'csv']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    expect(stableCalls(api).length).toBeGreaterThanOrEqual(4);
    // Each refused call was repeated from the same cursor.
    const cursors = listCalls(api).map((call) => call.query.get('next_openid'));
    expect(new Set(cursors).size).toBe(11);
  });

  it('stops with exit 3 and the cursor when the renewed token is refused too', async () => {
    const api = await fake({
      followers: 23_000,
      fault: (call) =>
        call.path === '/cgi-bin/user/get' && call.index > 2 ? { kind: 'errcode', errcode: 40001, errmsg: 'invalid credential' } : undefined,
    });
    const result = await exportWith(api, APP);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refused the access token just renewed .* too \(errcode 40001/);
    expect(result.stderr).toMatch(new RegExp(`--resume ${api.followers.at(9_999)}`));
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 10_000)));
    expect(stableCalls(api)).toHaveLength(2);
  });
});

describe('an explicit token', () => {
  it('wins over the AppID and AppSecret', async () => {
    const api = await fake({ followers: 3 });
    const result = await exportWith(api, { ...APP, WX_ACCESS_TOKEN: FAKE_TOKEN });
    expect(result.code).toBe(0);
    expect(stableCalls(api)).toHaveLength(0);
  });

  it('falls back to the AppID and AppSecret when refused, saying so in one line', async () => {
    const api = await fake({ followers: 23_000 });
    const result = await exportWith(api, { ...APP, WX_ACCESS_TOKEN: 'EXPIRED_TOKEN_0000000' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(result.stderr).toMatch(
      /^wx-followers: the access token from WX_ACCESS_TOKEN was refused \(errcode 40001\); using a token from the AppID and AppSecret instead\.\n$/,
    );
    const quiet = await exportWith(api, { ...APP, WX_ACCESS_TOKEN: 'EXPIRED_TOKEN_0000000' }, ['--quiet']);
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
  });

  it('stops with exit 3, the cursor and how to give an AppID and AppSecret when it expires and none is known', async () => {
    const api = await fake({
      followers: 23_000,
      fault: (call) => (call.index === 2 ? { kind: 'errcode', errcode: 42001, errmsg: 'access_token expired' } : undefined),
    });
    const result = await exportWith(api, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/expired \(errcode 42001: access_token expired/);
    expect(result.stderr).toMatch(/--appid and --secret, WX_APPID and WX_SECRET/);
    expect(result.stderr).toMatch(new RegExp(`--resume ${api.followers.at(9_999)}`));
  });
});

describe('refusals of the AppID and AppSecret', () => {
  it.each([
    ['a wrong AppID', { WX_APPID: 'wx0000000000000bad' }, undefined, /does not know this AppID \(errcode 40013/],
    ['a wrong AppSecret', { WX_SECRET: 'WRONG_SECRET_00000' }, undefined, /refused the AppSecret \(errcode 40125/],
    ['40001 from stable_token', {}, 40001, /refused the AppSecret for AppID wxfa4e0123456789ab \(errcode 40001/],
    ['the IP whitelist (40164)', {}, 40164, /not on the account's IP whitelist .*forward proxy on a whitelisted server/],
    ['the IP whitelist (61004)', {}, 61004, /not on the third-party platform's IP whitelist/],
  ])('%s exits 3 with a message', async (_name, env, stableErrcode, message) => {
    const api = await fake({
      followers: 3,
      fault: (call) =>
        stableErrcode !== undefined && call.path === '/cgi-bin/stable_token' ? { kind: 'errcode', errcode: stableErrcode } : undefined,
    });
    const result = await exportWith(api, { ...APP, ...env });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(listCalls(api)).toHaveLength(0);
  });

  it('48001 (no permission for the API) exits 3', async () => {
    const api = await fake({
      followers: 3,
      fault: (call) => (call.path === '/cgi-bin/user/get' ? { kind: 'errcode', errcode: 48001, errmsg: 'api unauthorized' } : undefined),
    });
    const result = await exportWith(api, APP);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no permission for this API, \/cgi-bin\/user\/get \(errcode 48001: api unauthorized/);
  });

  it('an AppID without an AppSecret is a usage error', async () => {
    const api = await fake({ followers: 3 });
    const result = await exportWith(api, { WX_APPID: FAKE_APPID });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no AppSecret/);
    expect(api.calls).toHaveLength(0);
  });
});

describe('precedence of the AppID and AppSecret: flag, env, config', () => {
  const wrongApp = 'wx00000000000wrong';
  const wrongSecret = 'WRONG_SECRET_1111111';

  async function withConfig(appid: string, secret: string): Promise<string> {
    const dir = await tempDir();
    expect((await runCli(['config', 'set', 'appid', appid], { env: cleanEnv(dir) })).code).toBe(0);
    expect((await runCli(['config', 'set', 'secret', secret], { env: cleanEnv(dir) })).code).toBe(0);
    return dir;
  }

  it('takes the flag before the env before the config store', async () => {
    const api = await fake({ followers: 2 });
    const wrongEnv = { WX_APPID: wrongApp, WX_SECRET: wrongSecret };
    const flags = ['--appid', FAKE_APPID, '--secret', FAKE_SECRET];
    expect((await exportWith(api, wrongEnv, flags, await withConfig(wrongApp, wrongSecret))).code).toBe(0);
    expect((await exportWith(api, APP, ['--appid', wrongApp], await withConfig(FAKE_APPID, FAKE_SECRET))).code).toBe(3);
    expect((await exportWith(api, APP, [], await withConfig(wrongApp, wrongSecret))).code).toBe(0);
    expect((await exportWith(api, { WX_SECRET: wrongSecret }, [], await withConfig(FAKE_APPID, FAKE_SECRET))).code).toBe(3);
    expect((await exportWith(api, {}, [], await withConfig(FAKE_APPID, FAKE_SECRET))).code).toBe(0);
  });

  it('reads the secret from stdin with --secret -', async () => {
    const api = await fake({ followers: 2 });
    const result = await runCli(['export', '--base-url', api.url, '--appid', FAKE_APPID, '--secret', '-'], {
      env: cleanEnv(await tempDir()),
      stdin: `${FAKE_SECRET}\n`,
    });
    expect([result.code, result.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
  });
});

describe('wx-followers token', () => {
  it('prints a token from stable_token, then the cached one without a request', async () => {
    const api = await fake({ followers: 0 });
    const dir = await tempDir();
    const first = await runCli(['token', '--base-url', api.url], { env: cleanEnv(dir, APP) });
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const token = first.stdout.toString();
    expect(token).toMatch(/^FAKE_STABLE_TOKEN_1_x+\n$/);
    const second = await runCli(['token'], { env: cleanEnv(dir, { ...APP, WX_API_BASE_URL: api.url }) });
    expect([second.code, second.stdout.toString()]).toEqual([0, token]);
    expect(stableCalls(api)).toHaveLength(1);
  });

  it('exits 3 with a message when the AppSecret is refused, and 2 without credentials', async () => {
    const api = await fake({ followers: 0 });
    const refused = await runCli(['token', '--base-url', api.url, '--appid', FAKE_APPID, '--secret', 'NOT_THE_SECRET_123'], {
      env: cleanEnv(await tempDir()),
    });
    expect([refused.code, refused.stdout.toString()]).toEqual([3, '']);
    expect(refused.stderr).toMatch(/errcode 40125/);
    const none = await runCli(['token', '--base-url', api.url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--appid/);
  });
});

describe('secrets', () => {
  it('never shows the AppSecret or any token on stdout or stderr, on every error path', async () => {
    const secret = 'SECRET_APPSECRET_9f8e7d6c5b4a_do_not_print';
    const token = 'SECRET_TOKEN_1a2b3c4d5e6f_do_not_print';
    // What a fault echoes back: only the credentials the tool was given on that path.
    const echo = (kind: string): string => `${kind} token=${token} secret=${secret}`;
    const echoToken = (kind: string): string => `${kind} token=${token}`;
    const paths: { name: string; options: FakeApiOptions; env: Record<string, string>; args?: string[] }[] = [
      { name: 'wrong secret', options: { secret: 'another' }, env: { WX_APPID: FAKE_APPID, WX_SECRET: secret } },
      { name: 'wrong appid', options: { secret }, env: { WX_APPID: 'wx1111111111111111', WX_SECRET: secret } },
      {
        name: 'stable_token 40164 echoing',
        options: {
          secret,
          fault: (call) =>
            call.path === '/cgi-bin/stable_token' ? { kind: 'errcode', errcode: 40164, errmsg: `ip secret=${secret}` } : undefined,
        },
        env: { WX_APPID: FAKE_APPID, WX_SECRET: secret },
      },
      {
        name: 'given token refused, fallback refused too',
        options: {
          secret,
          token,
          fault: (call) => (call.path === '/cgi-bin/user/get' ? { kind: 'errcode', errcode: 40001, errmsg: echo('cred') } : undefined),
        },
        env: { WX_ACCESS_TOKEN: token, WX_APPID: FAKE_APPID, WX_SECRET: secret },
      },
      {
        name: 'given token expired, no app',
        options: { token, fault: () => ({ kind: 'errcode', errcode: 42001, errmsg: echoToken('expired') }) },
        env: { WX_ACCESS_TOKEN: token },
      },
      {
        name: 'HTTP 500 echoing',
        options: { token, fault: () => ({ kind: 'status', status: 500, body: echo('500') }) },
        env: { WX_ACCESS_TOKEN: token, WX_SECRET: secret, WX_APPID: FAKE_APPID },
      },
      {
        name: 'malformed body echoing',
        options: { token, fault: () => ({ kind: 'raw', body: echoToken('raw') }) },
        env: { WX_ACCESS_TOKEN: token },
      },
      { name: 'connection reset', options: { token, fault: () => ({ kind: 'reset' }) }, env: { WX_ACCESS_TOKEN: token } },
      {
        name: 'quota',
        options: { token, fault: () => ({ kind: 'errcode', errcode: 45009, errmsg: echoToken('quota') }) },
        env: { WX_ACCESS_TOKEN: token },
      },
      {
        name: 'insecure base url',
        options: {},
        env: { WX_ACCESS_TOKEN: token, WX_SECRET: secret, WX_APPID: FAKE_APPID },
        args: ['--base-url', 'http://example.com'],
      },
    ];
    for (const path of paths) {
      const api = await fake({ followers: 30, ...path.options });
      for (const command of ['export', 'token']) {
        const result = await runCli([command, '--base-url', api.url, ...(path.args ?? [])], { env: cleanEnv(await tempDir(), path.env) });
        const output = result.stdout.toString() + result.stderr;
        // `token` prints a token it was given without a call (its one purpose); every export here fails.
        if (command === 'export') expect(result.code, `${path.name}: ${output}`).not.toBe(0);
        expect(output, path.name).not.toContain(secret);
        if (command === 'export' || result.code !== 0) expect(output, path.name).not.toContain(token);
      }
    }
  });
});
