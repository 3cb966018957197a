import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_COMPONENT_APPID,
  FAKE_COMPONENT_TOKEN,
  generatedAuthorizers,
  type FakeAuthorizer,
  type FakePlatformOptions,
} from './fake-api/platform.js';
import type { FakeApi } from './fake-api/server.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

/** The platform's token comes from its server: no test here may see the component token minted. */
const fake = useFakes((apis) => {
  for (const api of apis) {
    expect(api.calls.filter((call) => call.path === '/cgi-bin/component/api_component_token')).toEqual([]);
  }
});

const FIXTURE = fileURLToPath(new URL('./fixtures/token-command.mjs', import.meta.url));

function fixtureCommand(...args: string[]): string {
  return [process.execPath, FIXTURE, ...args].map((part) => JSON.stringify(part)).join(' ');
}

const STALE_COMPONENT_TOKEN = 'STALE_COMPONENT_TOKEN_0123456789abcdef';

function platformOf(authorizers: readonly FakeAuthorizer[], overrides: Partial<FakePlatformOptions> = {}): FakePlatformOptions {
  return {
    componentAppid: FAKE_COMPONENT_APPID,
    componentToken: FAKE_COMPONENT_TOKEN,
    expiredComponentTokens: [STALE_COMPONENT_TOKEN],
    authorizers,
    ...overrides,
  };
}

/** Every secret a run must never print: the refresh tokens of the list, the component tokens. */
function expectNoSecret(result: CliResult, authorizers: readonly FakeAuthorizer[]): void {
  const all = result.stdout.toString() + result.stderr;
  for (const authorizer of authorizers) expect(all).not.toContain(authorizer.refreshToken);
  for (const token of [FAKE_COMPONENT_TOKEN, STALE_COMPONENT_TOKEN]) expect(all).not.toContain(token);
  // Not even a part of one: the fake's refresh tokens share this stem.
  expect(all).not.toContain('FAKE_REFRESH');
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

async function accountsRun(api: FakeApi, args: string[], env: Record<string, string> = {}, dir?: string): Promise<CliResult> {
  const home = dir ?? (await tempDir());
  return runCli(['accounts', '--base-url', api.url, ...args], { env: cleanEnv(home, env) });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The platform's token service: its current component token, or the good one when asked again (refresh=1); each ask recorded. */
async function componentTokenService(first: string): Promise<{ url: string; asks: string[] }> {
  const asks: string[] = [];
  const server = createServer((request, response) => {
    asks.push(request.url ?? '');
    const refreshed = new URL(request.url ?? '/', 'http://service').searchParams.get('refresh') === '1';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ access_token: refreshed ? FAKE_COMPONENT_TOKEN : first, expires_in: 7200 }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asks };
}

describe('wx-followers accounts', () => {
  it('pages through 1,203 accounts 500 at a time, its token from a command asked again after a refusal, and prints no refresh token', async () => {
    const authorizers = generatedAuthorizers(1_203);
    const api = await fake({ platform: platformOf(authorizers) });
    const home = await tempDir();
    const logPath = join(home, 'command.log');
    const result = await accountsRun(
      api,
      [
        '--component-appid',
        FAKE_COMPONENT_APPID,
        '--component-token-command',
        fixtureCommand('refresh', STALE_COMPONENT_TOKEN, FAKE_COMPONENT_TOKEN),
      ],
      { TOKEN_FIXTURE_LOG: logPath, WX_APPID: 'wx0123456789abcdef' },
      home,
    );
    expect(result.stderr).toBe(
      'wx-followers: 1,203 accounts authorized the platform. With --with-info: their names, types, and whether each granted user management (needed to export its followers).\n',
    );
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(authorizers.map((each) => `${each.appid}\t${iso(each.authTime)}\tnot fetched\n`).join(''));
    expectNoSecret(result, authorizers);
    const lists = api.calls.filter((call) => call.path === '/cgi-bin/component/api_get_authorizer_list');
    // The first call refused (the stale token), asked again with the command's fresh one.
    expect(lists.map((call) => [JSON.parse(call.body), call.query.get('component_access_token') === FAKE_COMPONENT_TOKEN])).toEqual([
      [{ component_appid: FAKE_COMPONENT_APPID, offset: 0, count: 500 }, false],
      [{ component_appid: FAKE_COMPONENT_APPID, offset: 0, count: 500 }, true],
      [{ component_appid: FAKE_COMPONENT_APPID, offset: 500, count: 500 }, true],
      [{ component_appid: FAKE_COMPONENT_APPID, offset: 1000, count: 500 }, true],
    ]);
    expect(api.calls).toHaveLength(4);
    // The command is told the platform's AppID, and no account's: a WX_APPID of the person's is not passed on.
    const log = (await readFile(logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(log).toEqual([
      { mode: 'refresh', appid: null, refresh: null, component: FAKE_COMPONENT_APPID },
      { mode: 'refresh', appid: null, refresh: '1', component: FAKE_COMPONENT_APPID },
    ]);
  });

  it('lists each account once when the list shifts between two pages (one authorized meanwhile), as export --authorized reads it', async () => {
    const authorizers = generatedAuthorizers(620);
    const newcomer = generatedAuthorizers(621).at(-1) as FakeAuthorizer;
    // After the first page, someone authorizes at the front: the second page starts with the first page's last account.
    const shifted = [newcomer, ...authorizers];
    const api = await fake({
      platform: platformOf(authorizers),
      fault: (call) => {
        if (call.path !== '/cgi-bin/component/api_get_authorizer_list' || JSON.parse(call.body).offset !== 500) return undefined;
        const list = shifted
          .slice(500)
          .map((each) => ({ authorizer_appid: each.appid, refresh_token: each.refreshToken, auth_time: each.authTime }));
        return { kind: 'raw', body: JSON.stringify({ total_count: shifted.length, list }), contentType: 'application/json' };
      },
    });
    const result = await accountsRun(api, [], {
      WX_COMPONENT_APPID: FAKE_COMPONENT_APPID,
      WX_COMPONENT_TOKEN_COMMAND: fixtureCommand('token', FAKE_COMPONENT_TOKEN),
    });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(authorizers.map((each) => `${each.appid}\t${iso(each.authTime)}\tnot fetched\n`).join(''));
    expect(result.stderr).toMatch(/^wx-followers: 620 accounts authorized the platform\./);
    expectNoSecret(result, shifted);
  });

  it('with --with-info: names, types and user management, in text, CSV and NDJSON, from a token URL of a platform profile', async () => {
    const [granted, subscription, withdrawn, odd] = generatedAuthorizers(4) as [
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
    ];
    const authorizers: FakeAuthorizer[] = [
      granted,
      { ...subscription, nickName: '=HYPERLINK("x")', serviceType: 0, verifyType: -1, funcScopes: [1, 3] },
      { ...withdrawn, withdrawn: true },
      { ...odd, nickName: 'Tab\there', serviceType: 7, verifyType: 3 },
    ];
    const api = await fake({ platform: platformOf(authorizers) });
    const service = await componentTokenService(STALE_COMPONENT_TOKEN);
    const home = await tempDir();
    const profile = {
      'component-appid': FAKE_COMPONENT_APPID,
      'component-token-url': `${service.url}/component/{component_appid}?key=k`,
      'base-url': api.url,
    };
    await writeFile(join(home, 'config.json'), JSON.stringify({ profiles: { agency: profile } }));
    const run = (format: string): Promise<CliResult> =>
      runCli(['accounts', '--profile', 'agency', '--with-info', '-f', format], { env: cleanEnv(home) });
    const [text, csv, ndjson] = [await run('text'), await run('csv'), await run('ndjson')];
    for (const result of [text, csv, ndjson]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe(
        'wx-followers: 4 accounts authorized the platform; 2 granted user management, 1 did not (their followers cannot be exported); 1 withdrew it since the list was read.\n',
      );
      expectNoSecret(result, authorizers);
    }
    const times = authorizers.map((each) => iso(each.authTime));
    expect(text.stdout.toString()).toBe(
      `${granted.appid}\t${times[0]}\tyes\t${granted.nickName}\tservice\twechat\n` +
        `${subscription.appid}\t${times[1]}\tno\t=HYPERLINK("x")\tsubscription\tunverified\n` +
        `${withdrawn.appid}\t${times[2]}\twithdrawn\n` +
        `${odd.appid}\t${times[3]}\tyes\tTab here\t7\tqualification\n`,
    );
    expect(csv.stdout.toString()).toBe(
      'appid,auth_time,user_management,name,service_type,verify_type\n' +
        `${granted.appid},${times[0]},yes,${granted.nickName},service,wechat\n` +
        `${subscription.appid},${times[1]},no,"'=HYPERLINK(""x"")",subscription,unverified\n` +
        `${withdrawn.appid},${times[2]},withdrawn,,,\n` +
        `${odd.appid},${times[3]},yes,Tab\there,7,qualification\n`,
    );
    expect(
      ndjson.stdout
        .toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      {
        appid: granted.appid,
        auth_time: times[0],
        user_management: 'yes',
        name: granted.nickName,
        service_type: 'service',
        verify_type: 'wechat',
      },
      {
        appid: subscription.appid,
        auth_time: times[1],
        user_management: 'no',
        name: '=HYPERLINK("x")',
        service_type: 'subscription',
        verify_type: 'unverified',
      },
      { appid: withdrawn.appid, auth_time: times[2], user_management: 'withdrawn' },
      { appid: odd.appid, auth_time: times[3], user_management: 'yes', name: 'Tab\there', service_type: '7', verify_type: 'qualification' },
    ]);
    // Each run: one page, then one info call an account, with the component token in its own parameter.
    const infos = api.calls.filter((call) => call.path === '/cgi-bin/component/api_get_authorizer_info');
    expect(infos.map((call) => JSON.parse(call.body).authorizer_appid).sort()).toEqual(
      [...authorizers, ...authorizers, ...authorizers].map((each) => each.appid).sort(),
    );
    // The service asked with the platform's AppID, then again with refresh=1 after the refusal, each run.
    expect(service.asks.slice(0, 2)).toEqual([
      `/component/${FAKE_COMPONENT_APPID}?key=k`,
      `/component/${FAKE_COMPONENT_APPID}?key=k&refresh=1`,
    ]);
  });

  it('says what to do: no token source, no AppID, an IP off the platform whitelist (61004), a component token refused twice', async () => {
    const authorizers = generatedAuthorizers(2);
    const api = await fake({ platform: platformOf(authorizers) });
    const none = await accountsRun(api, ['--component-appid', FAKE_COMPONENT_APPID]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /--component-token-command CMD or --component-token-url URL, the environment variable WX_COMPONENT_TOKEN_COMMAND/,
    );
    expect(none.stderr).toMatch(/config set component-token-url/);
    const noAppid = await accountsRun(api, [], { WX_COMPONENT_TOKEN_COMMAND: fixtureCommand('token', FAKE_COMPONENT_TOKEN) });
    expect(noAppid.code).toBe(2);
    expect(noAppid.stderr).toMatch(/not its AppID: give it with --component-appid, WX_COMPONENT_APPID/);
    expect(api.calls).toEqual([]);

    const stale = fixtureCommand('token', STALE_COMPONENT_TOKEN);
    const refused = await accountsRun(api, ['--component-appid', FAKE_COMPONENT_APPID, '--component-token-command', stale]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refused the access token that the token command from --component-token-command gave when asked again/);
    expect(refused.stderr).toMatch(/the platform's current component access token \(of component AppID wxc0c0c0c0c0c0c0c0\)/);
    expect(refused.stdout.toString()).toBe('');

    const offList = await fake({ platform: platformOf(authorizers, { notWhitelisted: '203.0.113.9' }) });
    const good = fixtureCommand('token', FAKE_COMPONENT_TOKEN);
    const ip = await accountsRun(offList, ['--with-info', '-f', 'csv'], {
      WX_COMPONENT_APPID: FAKE_COMPONENT_APPID,
      WX_COMPONENT_TOKEN_COMMAND: good,
    });
    expect(ip.code).toBe(3);
    expect(ip.stderr).toMatch(/from 203\.0\.113\.9, an address that is not on the third-party platform's IP whitelist \(errcode 61004/);
    expect(ip.stdout.toString()).toBe('');
    for (const result of [none, noAppid, refused, ip]) expectNoSecret(result, authorizers);
  });
});
