import { createServer, type AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { FAKE_COMPONENT_APPID, FAKE_COMPONENT_TOKEN, generatedAuthorizers } from './fake-api/platform.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi } from './fake-api/server.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';

const fake = useFakes((apis) => {
  // check spends none of the export's list quota, and never the legacy token.
  for (const api of apis) expect(api.calls.filter((call) => call.path === '/cgi-bin/token')).toEqual([]);
});

const proxies: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

const APP = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };
const SEEN_IP = '203.0.113.7';

async function check(api: { url: string }, env: Record<string, string>, args: string[] = []): Promise<CliResult> {
  return runCli(['check', '--base-url', api.url, ...args], { env: cleanEnv(await tempDir(), env) });
}

function json(result: CliResult): Record<string, unknown> {
  return JSON.parse(result.stdout.toString()) as Record<string, unknown>;
}

function pathsCalled(api: FakeApi): string[] {
  return api.calls.map((call) => call.path);
}

function expectNoSecret(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(result.stdout.toString()).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

describe('wx-followers check against a whitelisted API', () => {
  it('says where the token comes from without showing it, that the API takes it, the proxy and the quota: exit 0', async () => {
    const api = await fake({ followers: 25_000 });
    const result = await check(api, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(/^Credentials: +access token from WX_ACCESS_TOKEN \(not shown\)$/m);
    expect(text).toMatch(/^API: +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^Proxy: +none$/m);
    expect(text).toMatch(/^Access: +the API takes the token/m);
    expect(text).toMatch(/^Quota user\/get: +500 of 500 calls left today \(0 used\)$/m);
    expect(text).toMatch(/^Quota user\/info\/batchget: +5,000,000 of 5,000,000 calls left today/m);
    expect(text).toMatch(/^Quota resets: +00:00 China Standard Time \(16:00 UTC\), in \d+ (h \d+ min|minutes?)$/m);
    expect(text).toMatch(/^Result: +ready: an export would start \(exit 0\)\n$/m);
    expect(result.stderr).toBe('');
    expectNoSecret(result, FAKE_TOKEN);
    // One cheap call, then the two quotas: not a call of the follower list.
    expect(pathsCalled(api)).toEqual(['/cgi-bin/get_api_domain_ip', '/cgi-bin/openapi/quota/get', '/cgi-bin/openapi/quota/get']);
    expect(api.calls.slice(1).map((call) => JSON.parse(call.body))).toEqual([
      { cgi_path: '/cgi-bin/user/get' },
      { cgi_path: '/cgi-bin/user/info/batchget' },
    ]);
  });

  it('--format json: one object for scripts, with the AppID and the sources of both credentials, and the quota really used', async () => {
    const api = await fake({ followers: 25_000, pageSize: 10_000 });
    const dir = await tempDir();
    // Three pages and the empty answer that ends the list: four calls of user/get.
    const exported = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir, APP) });
    expect(exported.code).toBe(0);
    const result = await runCli(['check', '--base-url', api.url, '--format', 'json'], { env: cleanEnv(dir, APP) });
    expect(result.code).toBe(0);
    const report = json(result);
    expect(report).toMatchObject({
      ready: true,
      exitCode: 0,
      credentials: { kind: 'appid-secret', appid: FAKE_APPID, appidFrom: 'WX_APPID', secretFrom: 'WX_SECRET' },
      proxy: null,
      access: { ok: true },
    });
    const quota = report['quota'] as { resetsAt: string; apis: unknown[] };
    expect(quota.apis).toEqual([
      { path: '/cgi-bin/user/get', dailyLimit: 500, used: 4, remain: 496 },
      { path: '/cgi-bin/user/info/batchget', dailyLimit: 5_000_000, used: 0, remain: 5_000_000 },
    ]);
    // Midnight in China Standard Time is 16:00 UTC, within the next day.
    expect(quota.resetsAt).toMatch(/T16:00:00\.000Z$/);
    expect(Date.parse(quota.resetsAt) - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(result.stdout.toString().split('\n')).toHaveLength(2);
    expectNoSecret(result, FAKE_SECRET, 'FAKE_STABLE_TOKEN');
  });

  it('names a refused token and the fallback an export would go on with (exit 0)', async () => {
    const api = await fake({ followers: 5 });
    const result = await check(api, { WX_ACCESS_TOKEN: 'STALE_TOKEN_0123456789', ...APP });
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(
      /^Credentials: +access token from WX_ACCESS_TOKEN \(not shown\); refused by the API, so an export would use a token from the AppID and AppSecret$/m,
    );
    expect(text).toMatch(
      /^Fallback: +AppID wxfa4e0123456789ab from WX_APPID and AppSecret from WX_SECRET \(not shown\), if the API refuses the token$/m,
    );
    expectNoSecret(result, 'STALE_TOKEN_0123456789', FAKE_SECRET, 'FAKE_STABLE_TOKEN');
  });

  it('says a quota is unknown when quota/get is refused (48001), and is still ready', async () => {
    const api = await fake({
      followers: 5,
      fault: (call) =>
        call.path === '/cgi-bin/openapi/quota/get' ? { kind: 'errcode', errcode: 48001, errmsg: 'api unauthorized' } : undefined,
    });
    const result = await check(api, { WX_ACCESS_TOKEN: FAKE_TOKEN }, ['--format', 'json']);
    expect(result.code).toBe(0);
    const apis = (json(result)['quota'] as { apis: Record<string, unknown>[] }).apis;
    expect(apis.map((entry) => entry['path'])).toEqual(['/cgi-bin/user/get', '/cgi-bin/user/info/batchget']);
    for (const entry of apis) expect(entry['unknown']).toMatch(/errcode 48001/);
  });

  it("is exit 4 when today's user/get quota is spent, as the export would be", async () => {
    const api = await fake({ followers: 25_000, dailyQuota: 3 });
    const dir = await tempDir();
    const exported = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect(exported.code).toBe(4);
    const result = await runCli(['check', '--base-url', api.url], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect(result.code).toBe(4);
    expect(result.stdout.toString()).toMatch(/^Quota user\/get: +0 of 3 calls left today \(3 used\)$/m);
    expect(result.stdout.toString()).toMatch(/^Result: +not ready: an export would stop with exit 4$/m);
    expect(result.stderr).toMatch(/quota of \/cgi-bin\/user\/get is spent.*resets at 00:00 China Standard Time/);
  });

  it('names the proxy in effect and where it was set, never its password', async () => {
    const api = await fake({ followers: 5 });
    const proxy = await startProxy({ user: 'ops', password: 'PROXY_PASSWORD_42' });
    proxies.push(proxy);
    const url = `http://ops:PROXY_PASSWORD_42@127.0.0.1:${proxy.port}`;
    const result = await check(api, { WX_ACCESS_TOKEN: FAKE_TOKEN, HTTP_PROXY: url }, ['--format', 'json']);
    expect(result.code).toBe(0);
    expect(json(result)['proxy']).toEqual({ url: `http://127.0.0.1:${proxy.port}`, from: 'HTTP_PROXY', withUser: true });
    expect(proxy.forwarded.some((line) => line.includes('/cgi-bin/get_api_domain_ip'))).toBe(true);
    expectNoSecret(result, 'PROXY_PASSWORD_42', FAKE_TOKEN);
  });
});

describe('wx-followers check against an API that refuses this address (40164)', () => {
  it('names the address the API saw and the two ways out: exit 3, as the export', async () => {
    const api = await fake({ followers: 5, notWhitelisted: SEEN_IP });
    const result = await check(api, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    expect(result.code).toBe(3);
    const text = result.stdout.toString();
    expect(text).toMatch(
      /^Access: +refused: the API saw the call come from 203\.0\.113\.7 which is not on the account's IP whitelist \(errcode 40164\)$/m,
    );
    expect(text).toMatch(/^Way out: +add 203\.0\.113\.7 to the IP whitelist/m);
    expect(text).toMatch(/^Way out: +or go through a forward proxy on a whitelisted server: --proxy/m);
    expect(text).toMatch(/^Result: +not ready: an export would stop with exit 3$/m);
    expect(text).not.toMatch(/^Quota/m);
    // Also on stderr, for a cron line that sends stdout away.
    expect(result.stderr).toMatch(/^wx-followers: The API saw this call come from 203\.0\.113\.7/m);
    expect(pathsCalled(api)).toEqual(['/cgi-bin/get_api_domain_ip']);
    const exported = await runCli(['export', '--base-url', api.url], { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect(exported.code).toBe(result.code);
  });

  it('--format json gives the address; a token from the AppID meets the refusal at stable_token', async () => {
    const api = await fake({ followers: 5, notWhitelisted: SEEN_IP });
    const result = await check(api, APP, ['--format', 'json']);
    expect(result.code).toBe(3);
    expect(json(result)).toMatchObject({ ready: false, exitCode: 3, access: { ok: false, errcode: 40164, seenIp: SEEN_IP } });
    expect(pathsCalled(api)).toEqual(['/cgi-bin/stable_token']);
    expectNoSecret(result, FAKE_SECRET);
  });
});

describe('wx-followers check when an export could not start', () => {
  it('without credentials: exit 2, still one JSON object', async () => {
    const api = await fake({ followers: 5 });
    const result = await check(api, {}, ['--format', 'json']);
    expect(result.code).toBe(2);
    expect(json(result)).toMatchObject({ ready: false, exitCode: 2, problem: expect.stringMatching(/^No credentials/) });
    expect(api.calls).toEqual([]);
  });

  it('when the API cannot be reached: exit 5', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await check({ url: `http://127.0.0.1:${port}` }, { WX_ACCESS_TOKEN: FAKE_TOKEN }, ['--retries', '0']);
    expect(result.code).toBe(5);
    expect(result.stdout.toString()).toMatch(/^Result: +not ready: an export would stop with exit 5$/m);
  });

  it('refuses a --format it does not know (exit 2, before any call)', async () => {
    const api = await fake({ followers: 5 });
    const result = await check(api, { WX_ACCESS_TOKEN: FAKE_TOKEN }, ['--format', 'csv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--format of check must be text or json; got 'csv'/);
    expect(api.calls).toEqual([]);
  });
});

describe('wx-followers check over several accounts (--profiles, --all-profiles)', () => {
  it('checks each profile as an export over them would, under its name; the exit code is the most serious', async () => {
    const shop = await fake({ followers: 3 });
    const news = await fake({ followers: 3, notWhitelisted: SEEN_IP });
    const dir = await tempDir();
    const env = cleanEnv(dir);
    for (const [profile, api] of [
      ['shop', shop],
      ['news', news],
    ] as const) {
      for (const [key, value] of [
        ['appid', FAKE_APPID],
        ['secret', FAKE_SECRET],
        ['base-url', api.url],
      ] as const) {
        expect((await runCli(['config', '--profile', profile, 'set', key, value], { env })).code).toBe(0);
      }
    }
    const platform = ['--profile', 'agency', 'set'];
    expect((await runCli(['config', ...platform, 'component-appid', 'wxc0c0c0c0c0c0c0c0'], { env })).code).toBe(0);
    expect((await runCli(['config', ...platform, 'component-token-url', 'https://platform.example/token'], { env })).code).toBe(0);
    const text = await runCli(['check', '--all-profiles'], { env });
    expect(text.code).toBe(3);
    // The platform's profile is no account an export would run: left out, said once, not a failed check.
    expect(text.stderr.match(/--all-profiles leaves out agency, a third-party platform's profile/g)).toHaveLength(1);
    expect(text.stdout.toString()).not.toContain('[agency]');
    const out = text.stdout.toString();
    expect(out).toMatch(/^\[shop\]\n(.+\n)+Result: +ready: an export would start \(exit 0\)\n\n\[news\]\n/);
    expect(out).toContain(SEEN_IP);
    expect(text.stderr).toMatch(/^wx-followers \[news\]: /m);
    const json = await runCli(['check', '--profiles', 'news,shop', '--format', 'json'], { env });
    const reports = json.stdout
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { profile: string; ready: boolean; exitCode: number });
    expect(reports.map(({ profile, ready, exitCode }) => ({ profile, ready, exitCode }))).toEqual([
      { profile: 'news', ready: false, exitCode: 3 },
      { profile: 'shop', ready: true, exitCode: 0 },
    ]);
    expect(json.code).toBe(3);
    expectNoSecret(text, FAKE_SECRET, FAKE_TOKEN);
    expectNoSecret(json, FAKE_SECRET, FAKE_TOKEN);
  });

  it('refuses an unknown profile, or credentials that would serve every account, with exit 2 before any call', async () => {
    const api = await fake({ followers: 3 });
    const dir = await tempDir();
    const env = cleanEnv(dir);
    expect((await runCli(['config', '--profile', 'shop', 'set', 'base-url', api.url], { env })).code).toBe(0);
    const unknown = await runCli(['check', '--profiles', 'shop,nope'], { env });
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('nope')]);
    const shared = await runCli(['check', '--all-profiles', '--access-token', FAKE_TOKEN], { env });
    expect([shared.code, shared.stderr]).toEqual([2, expect.stringContaining('--access-token would serve every account')]);
    expect(api.calls).toEqual([]);
  });
});

describe('wx-followers check --profile of a third-party platform', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/token-command.mjs', import.meta.url));
  const command = (token: string): string => [process.execPath, FIXTURE, 'token', token].map((part) => JSON.stringify(part)).join(' ');

  async function platformCheck(options: { notWhitelisted?: string; token?: string }, args: string[] = []): Promise<[CliResult, FakeApi]> {
    const authorizers = generatedAuthorizers(3);
    const api = await fake({
      platform: {
        componentAppid: FAKE_COMPONENT_APPID,
        componentToken: FAKE_COMPONENT_TOKEN,
        authorizers,
        notWhitelisted: options.notWhitelisted,
      },
    });
    const dir = await tempDir();
    const profile = {
      'component-appid': FAKE_COMPONENT_APPID,
      'component-token-command': command(options.token ?? FAKE_COMPONENT_TOKEN),
      'base-url': api.url,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { agency: profile } }));
    return [await runCli(['check', '--profile', 'agency', ...args], { env: cleanEnv(dir) }), api];
  }

  it('names the component token source, probes it with one api_get_authorizer_list of one account, and tells how many authorized: exit 0', async () => {
    const [text, api] = await platformCheck({});
    expect(text.code).toBe(0);
    const out = text.stdout.toString();
    expect(out).toMatch(
      /^Platform: +third-party platform, component AppID wxc0c0c0c0c0c0c0c0 from config key component-appid of profile agency$/m,
    );
    expect(out).toMatch(
      /^Credentials: +component token from a token command set by config key component-token-command of profile agency \(neither shown\)/m,
    );
    expect(out).toMatch(/^Access: +the API takes the component token \(api_get_authorizer_list answered\)$/m);
    expect(out).toMatch(/^Authorized: +3 accounts authorized the platform/m);
    expect(out).toMatch(/^Result: +ready: an export --authorized would start \(exit 0\)\n$/m);
    expect(out).not.toMatch(/Quota/);
    expect(text.stderr).toBe('');
    expect(api.calls.map((call) => [call.path, JSON.parse(call.body)])).toEqual([
      ['/cgi-bin/component/api_get_authorizer_list', { component_appid: FAKE_COMPONENT_APPID, offset: 0, count: 1 }],
    ]);
    const [json] = await platformCheck({}, ['--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.toString())).toMatchObject({
      ready: true,
      exitCode: 0,
      credentials: {
        kind: 'component-token-command',
        componentAppid: FAKE_COMPONENT_APPID,
        componentAppidFrom: 'config key component-appid of profile agency',
      },
      proxy: null,
      access: { ok: true },
      authorized: 3,
    });
    expectNoSecret(text, FAKE_COMPONENT_TOKEN, 'FAKE_REFRESH');
    expectNoSecret(json, FAKE_COMPONENT_TOKEN, 'FAKE_REFRESH');
  });

  it('is exit 3 as the export would be: this IP off the platform whitelist (61004, the address named), a component token refused', async () => {
    const [offList] = await platformCheck({ notWhitelisted: SEEN_IP }, ['--format', 'json']);
    expect(offList.code).toBe(3);
    expect(JSON.parse(offList.stdout.toString())).toMatchObject({
      ready: false,
      exitCode: 3,
      access: { ok: false, errcode: 61004, seenIp: SEEN_IP },
    });
    expect(offList.stderr).toMatch(/^wx-followers: .*203\.0\.113\.7.*third-party platform's IP whitelist/m);
    const [refused] = await platformCheck({ token: 'NOT_THE_COMPONENT_TOKEN_0123456789' });
    expect(refused.code).toBe(3);
    expect(refused.stdout.toString()).toMatch(/^Access: +refused: .*token command/m);
    expect(refused.stdout.toString()).toMatch(/^Result: +not ready: an export --authorized would stop with exit 3$/m);
    expectNoSecret(refused, 'NOT_THE_COMPONENT_TOKEN_0123456789', FAKE_COMPONENT_TOKEN);
  });
});
