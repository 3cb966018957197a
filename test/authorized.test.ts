import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allOpenids, everyNth, generatedFollowers } from './fake-api/followers.js';
import { FAKE_COMPONENT_APPID, FAKE_COMPONENT_TOKEN, generatedAuthorizers, type FakeAuthorizer } from './fake-api/platform.js';
import type { FakeApi, FakeApiOptions } from './fake-api/server.js';
import { cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const FIXTURE = fileURLToPath(new URL('./fixtures/token-command.mjs', import.meta.url));
const TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';
const INFO_PATH = '/cgi-bin/component/api_get_authorizer_info';
/** What no output may hold a piece of: the component token, refresh tokens, authorizer tokens. */
const SECRETS = /FAKE_COMPONENT_TOKEN|refreshtoken@@@|FAKE_REFRESH|FAKE_ROTATED|FAKE_AUTHORIZER_TOKEN|GIVEN_wx/;

/** Five authorizers with followers of their own (every fifth of one list), named and numbered. */
function fiveAuthorizers(): FakeAuthorizer[] {
  const all = generatedFollowers(5 * 120);
  return generatedAuthorizers(5).map((authorizer, index) => ({ ...authorizer, followers: everyNth(all, 5, index) }));
}

function platformApi(authorizers: readonly FakeAuthorizer[], extra: Partial<FakeApiOptions> = {}): Promise<FakeApi> {
  return fake({
    platform: { componentAppid: FAKE_COMPONENT_APPID, componentToken: FAKE_COMPONENT_TOKEN, authorizers },
    pageSize: 40,
    ...extra,
  });
}

async function cli(dir: string, api: FakeApi, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['export', '--authorized', ...args], {
    cwd: dir,
    env: cleanEnv(dir, {
      WX_API_BASE_URL: api.url,
      WX_COMPONENT_APPID: FAKE_COMPONENT_APPID,
      WX_COMPONENT_TOKEN_COMMAND: `"${process.execPath}" "${FIXTURE}" token ${FAKE_COMPONENT_TOKEN}`,
      ...env,
    }),
  });
}

function callsTo(api: FakeApi, path: string, appid?: string): number {
  return api.calls.filter((call) => call.path === path && (appid === undefined || call.body.includes(appid))).length;
}

function summaryOf(text: string): Record<string, unknown>[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('export --authorized', () => {
  it('exports every authorized account with api_authorizer_token: a token expiring mid-walk is renewed with the rotated refresh token; no scope, 61023 and 61003 fail alone, in words; {name} sanitised; exit 3', async () => {
    const [shop, news, noScope, refused, withdrawn] = fiveAuthorizers() as [
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
    ];
    const api = await platformApi([
      // Three pages and the end, each token good for one call, each renewal handing out a new refresh token.
      { ...shop, nickName: 'Shop/东区: "A"', tokenLifetimeCalls: 1, rotateRefreshToken: true },
      { ...news, nickName: '.news' },
      { ...noScope, funcScopes: [1, 3] },
      { ...refused, refreshRefused: true },
      { ...withdrawn, withdrawn: true },
    ]);
    const dir = await tempDir();
    const result = await cli(dir, api, ['-o', '{name}-{appid}.txt', '--state', '{appid}.state', '--summary', 'summary.ndjson']);
    expect(result.code).toBe(3);
    expect(await readFile(join(dir, `Shop_东区_ _A_-${shop.appid}.txt`), 'utf8')).toBe(lines(allOpenids(shop.followers as never)));
    expect(await readFile(join(dir, `_news-${news.appid}.txt`), 'utf8')).toBe(lines(allOpenids(news.followers as never)));
    // The first token, then one for each expiry, each asked with the newest refresh token (the fake refuses an older one).
    expect(callsTo(api, TOKEN_PATH, shop.appid)).toBe(4);
    expect(callsTo(api, INFO_PATH)).toBe(5);
    expect(result.stderr).toMatch(
      new RegExp(
        `^wx-followers \\[${noScope.appid} \\(公众号 3\\)\\]: .*not granted the platform user management \\(function scope 2; it granted: 1, 3\\)`,
        'm',
      ),
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `^ {2}${refused.appid} \\(公众号 4\\): failed \\(exit 3\\) after 0 OpenIDs: .*refresh token.*authorize the platform again`,
        'm',
      ),
    );
    // Withdrawn since the list was read: its info call says so (61003), so it has no name.
    expect(result.stderr).toMatch(new RegExp(`^ {2}${withdrawn.appid}: failed \\(exit 3\\) after 0 OpenIDs: .*withdrew`, 'm'));
    expect(result.stderr).toMatch(
      /\nwx-followers: 2 of 5 accounts finished:\n {2}wxa0+1 \(Shop\/东区: "A"\): done, 120 OpenIDs in Shop_东区_ _A_-wxa0+1\.txt\n/,
    );
    const summary = summaryOf(await readFile(join(dir, 'summary.ndjson'), 'utf8'));
    expect(summary.map(({ appid, name, status, exitCode, written }) => ({ appid, name, status, exitCode, written }))).toEqual([
      { appid: shop.appid, name: 'Shop/东区: "A"', status: 'done', exitCode: 0, written: 120 },
      { appid: news.appid, name: '.news', status: 'done', exitCode: 0, written: 120 },
      { appid: noScope.appid, name: '公众号 3', status: 'failed', exitCode: 3, written: 0 },
      { appid: refused.appid, name: '公众号 4', status: 'failed', exitCode: 3, written: 0 },
      { appid: withdrawn.appid, name: undefined, status: 'failed', exitCode: 3, written: 0 },
    ]);
    // No follower-list call for the account without user management: its scopes said so first.
    expect(api.accountCounts(noScope.appid).calls).toBe(0);
    expect(result.stdout.toString() + result.stderr + JSON.stringify(summary)).not.toMatch(SECRETS);
  });

  it('takes each token from the platform server: a command with {appid} (never through the shell), a URL with {appid}; an AppID not listed fails alone; without {name} no info is asked', async () => {
    const [shop, news, third] = fiveAuthorizers() as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    const given = (authorizer: FakeAuthorizer): FakeAuthorizer => ({ ...authorizer, token: `GIVEN_${authorizer.appid}` });
    // Without scope 2 and without {name}: the follower list's 48001 says it.
    const api = await platformApi([given(shop), given(news), { ...given(third), funcScopes: [1] }]);
    const dir = await tempDir();
    const command = `"${process.execPath}" "${FIXTURE}" token GIVEN_{appid}`;
    const byCommand = await cli(dir, api, [
      `${shop.appid},wx0000000000000000,${third.appid}`,
      '-o',
      'cmd-{appid}.txt',
      '--authorizer-token-command',
      command,
    ]);
    expect(byCommand.code).toBe(3);
    expect(await readFile(join(dir, `cmd-${shop.appid}.txt`), 'utf8')).toBe(lines(allOpenids(shop.followers as never)));
    expect(byCommand.stderr).toMatch(
      /^ {2}wx0000000000000000: failed \(exit 3\) after 0 OpenIDs: wx0000000000000000 is not among the 3 accounts that authorized the platform/m,
    );
    expect(byCommand.stderr).toMatch(new RegExp(`^ {2}${third.appid}: failed \\(exit 3\\) .*function scope 2`, 'm'));
    const served: string[] = [];
    const service = createServer((request, response) => {
      served.push(request.url ?? '');
      response.end(`GIVEN_${(request.url ?? '').split('/')[2]}\n`);
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    try {
      const byUrl = await cli(dir, api, [`${news.appid}`, '-o', 'url-{appid}.txt'], {
        WX_AUTHORIZER_TOKEN_URL: `http://127.0.0.1:${port}/token/{appid}`,
      });
      expect(byUrl.code).toBe(0);
      expect(served).toEqual([`/token/${news.appid}`]);
      expect(await readFile(join(dir, `url-${news.appid}.txt`), 'utf8')).toBe(lines(allOpenids(news.followers as never)));
      expect(byUrl.stderr + byCommand.stderr).not.toMatch(SECRETS);
    } finally {
      await new Promise((resolve) => service.close(resolve));
    }
    expect(callsTo(api, TOKEN_PATH) + callsTo(api, INFO_PATH)).toBe(0);
  });

  it('gives each failing account its own next step: authorize again (61023), leave it out (61003 withdrawn, an AppID not listed), not "run again"', async () => {
    const [refused, withdrawn, fine] = fiveAuthorizers() as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    const api = await platformApi([{ ...refused, refreshRefused: true }, { ...withdrawn, withdrawn: true }, fine]);
    const dir = await tempDir();
    const chosen = [refused.appid, withdrawn.appid, 'wx0000000000000000', fine.appid].join(',');
    const result = await cli(dir, api, [chosen, '-o', '{appid}.txt', '--state', '{appid}.state', '--summary', 'summary.ndjson']);
    expect(result.code).toBe(3);
    const linesOf = (appid: string): string[] => result.stderr.split('\n').filter((line) => line.startsWith(`wx-followers [${appid}]:`));
    expect(linesOf(refused.appid)).toEqual([
      expect.stringMatching(
        /refused the account's authorizer refresh token .*Its administrator must authorize the platform again .*Running again before that meets the same refusal\.$/,
      ),
      `wx-followers [${refused.appid}]: 0 OpenIDs written. Once that is put right, run the same command with the same --state again to continue.`,
    ]);
    // Withdrawn: nothing to continue, no "run again" at all.
    expect(linesOf(withdrawn.appid)).toEqual([
      expect.stringMatching(
        /withdrew its authorization of the third-party platform .*Remove it from --authorized: `wx-followers accounts` lists/,
      ),
      `wx-followers [${withdrawn.appid}]: 0 OpenIDs written.`,
    ]);
    const reasons = summaryOf(await readFile(join(dir, 'summary.ndjson'), 'utf8')).map(({ appid, status, reason }) => [
      appid,
      status,
      reason,
    ]);
    expect(reasons).toEqual([
      [refused.appid, 'failed', expect.stringMatching(/must authorize the platform again/)],
      [withdrawn.appid, 'failed', expect.stringMatching(/Remove it from --authorized/)],
      ['wx0000000000000000', 'failed', expect.stringMatching(/Correct it or remove it from --authorized/)],
      [fine.appid, 'done', undefined],
    ]);
    expect(result.stderr).toMatch(
      new RegExp(`^ {2}${withdrawn.appid}: failed \\(exit 3\\) after 0 OpenIDs: .*Remove it from --authorized`, 'm'),
    );
    expect(result.stderr).not.toMatch(SECRETS);
  });

  it("blanks the run's secrets in every account's messages and in the summary: an errmsg quoting the component token or a refresh token", async () => {
    const [quoting, withdrawn, fine] = fiveAuthorizers() as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    // Both registered by the run (the component token, the list's refresh tokens), none by the account's own reporter.
    const quoted = `${FAKE_COMPONENT_TOKEN} ${quoting.refreshToken}`;
    const api = await platformApi([quoting, withdrawn, fine], {
      fault: (call) => {
        if (call.path === '/cgi-bin/user/get' && call.query.get('access_token')?.includes(quoting.appid) === true) {
          return { kind: 'errcode', errcode: 48001, errmsg: `api unauthorized ${quoted}` };
        }
        if (call.path === INFO_PATH && call.body.includes(withdrawn.appid)) {
          return { kind: 'errcode', errcode: 61003, errmsg: `not authorized ${quoted}` };
        }
        return undefined;
      },
    });
    const dir = await tempDir();
    const result = await cli(dir, api, ['-o', '{appid}-{name}.txt', '--summary', 'summary.ndjson']);
    expect(result.code).toBe(3);
    const summary = await readFile(join(dir, 'summary.ndjson'), 'utf8');
    expect(summaryOf(summary).map(({ appid, status }) => ({ appid, status }))).toEqual([
      { appid: quoting.appid, status: 'failed' },
      { appid: withdrawn.appid, status: 'failed' },
      { appid: fine.appid, status: 'done' },
    ]);
    // The errmsgs reached each account's lines and the summary, their secrets blanked.
    expect(result.stderr).toMatch(new RegExp(`^wx-followers \\[${quoting.appid} .*api unauthorized \\[redacted\\] \\[redacted\\]`, 'm'));
    expect(result.stderr).toMatch(
      new RegExp(`^wx-followers \\[${withdrawn.appid}\\]: .*not authorized \\[redacted\\] \\[redacted\\]`, 'm'),
    );
    expect(summary).toContain('not authorized [redacted] [redacted]');
    expect(summary).toContain('api unauthorized [redacted] [redacted]');
    expect(result.stdout.toString() + result.stderr + summary).not.toMatch(SECRETS);
  });

  it("an account's refusal of user management leads with the scope it did not grant the platform (48001, 61007), each failing alone; 61005 from the platform's list is exit 3 in words", async () => {
    const [unverified, ungranted, fine] = fiveAuthorizers() as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    let ticketExpired = false;
    const api = await platformApi([unverified, ungranted, fine], {
      fault: (call) => {
        if (ticketExpired && call.path === '/cgi-bin/component/api_get_authorizer_list') {
          return { kind: 'errcode', errcode: 61005, errmsg: 'component ticket is expired' };
        }
        const token = call.query.get('access_token') ?? '';
        if (call.path !== '/cgi-bin/user/get') return undefined;
        if (token.includes(unverified.appid)) return { kind: 'errcode', errcode: 48001, errmsg: 'api unauthorized' };
        if (token.includes(ungranted.appid)) return { kind: 'errcode', errcode: 61007, errmsg: 'api is unauthorized to component' };
        return undefined;
      },
    });
    const dir = await tempDir();
    const result = await cli(dir, api, ['-o', '{appid}.txt']);
    expect(result.code).toBe(3);
    const grant =
      "its administrator must authorize the platform again with user management \\(用户管理权限, function scope 2\\) ticked, on the platform's authorization page";
    expect(result.stderr).toMatch(
      new RegExp(
        `^ {2}${unverified.appid}: failed \\(exit 3\\) after 0 OpenIDs: The API refused /cgi-bin/user/get to the third-party platform for this account \\(errcode 48001: api unauthorized[^)]*\\)\\. ` +
          `The follower list is part of user management, which this account has most likely not granted the platform: ${grant}.*\\. If it has granted it, the account must also be verified`,
        'm',
      ),
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `^ {2}${ungranted.appid}: failed \\(exit 3\\) after 0 OpenIDs: This account has not granted the third-party platform the permission this API needs .*For the follower list, tags and details that is user management: ${grant}`,
        'm',
      ),
    );
    expect(result.stderr).toMatch(new RegExp(`^ {2}${fine.appid}: done`, 'm'));
    ticketExpired = true;
    const expiredDir = await tempDir();
    const expired = await cli(expiredDir, api, ['-o', '{appid}.txt']);
    expect(expired.code).toBe(3);
    expect(expired.stderr).toMatch(
      /^wx-followers: The third-party platform's component_verify_ticket has expired, so the platform cannot renew its component token \(errcode 61005: component ticket is expired[^)]*\)\. WeChat pushes a fresh component_verify_ticket to the platform's authorization event URL \(授权事件接收 URL\) every 10 minutes/,
    );
    expect(await readdir(expiredDir)).toEqual([]);
  });

  it('61004 (this IP off the platform whitelist) starts no other account; a refused component token is exit 3 before any export', async () => {
    const authorizers = fiveAuthorizers().slice(0, 3);
    const [first, second, third] = authorizers as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    // The second account's follower list: the platform's whitelist is checked on its accounts' calls too.
    const api = await platformApi(authorizers, {
      fault: (call) =>
        call.path === '/cgi-bin/user/get' && call.query.get('access_token')?.includes(second.appid) === true
          ? { kind: 'errcode', errcode: 61004, errmsg: 'access clientip is not registered requestIP: 203.0.113.9' }
          : undefined,
    });
    const dir = await tempDir();
    const stopped = await cli(dir, api, ['-o', '{appid}.txt']);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(new RegExp(`^ {2}${first.appid}: done`, 'm'));
    expect(stopped.stderr).toMatch(
      new RegExp(`^ {2}${second.appid}: failed \\(exit 3\\) .*203\\.0\\.113\\.9.*third-party platform's IP whitelist`, 'm'),
    );
    expect(stopped.stderr).toMatch(
      new RegExp(`^ {2}${third.appid}: not started \\(exit 3\\): ${second.appid} met a failure every account would meet`, 'm'),
    );
    expect(api.accountCounts(third.appid).calls).toBe(0);
    const refusedDir = await tempDir();
    const refused = await cli(refusedDir, api, ['-o', '{appid}.txt'], {
      WX_COMPONENT_TOKEN_COMMAND: `"${process.execPath}" "${FIXTURE}" token NOT_THE_COMPONENT_TOKEN_0123456789`,
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refused the access token that the token command/);
    expect(await readdir(refusedDir)).toEqual([]);
  });
});
