/**
 * sync --authorized end to end: the fake's third-party platform, its accounts synced into one
 * SQLite file by the built CLI, as an agency's cron would run it.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SqlRow } from '../src/out/db/database.js';
import { openDatabase } from '../src/out/db/open.js';
import { allOpenids, changingList, generatedFollowers } from './fake-api/followers.js';
import { FAKE_COMPONENT_APPID, FAKE_COMPONENT_TOKEN, generatedAuthorizers, type FakeAuthorizer } from './fake-api/platform.js';
import type { FakeApi, FakeApiOptions } from './fake-api/server.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const FIXTURE = fileURLToPath(new URL('./fixtures/token-command.mjs', import.meta.url));
const TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';
/** What no output, summary or database may hold a piece of: the component token, refresh tokens, authorizer tokens. */
const SECRETS = /FAKE_COMPONENT_TOKEN|refreshtoken@@@|FAKE_REFRESH|FAKE_AUTHORIZER_TOKEN|GIVEN_wx/;
const COMPONENT_COMMAND = `"${process.execPath}" "${FIXTURE}" token ${FAKE_COMPONENT_TOKEN}`;

const everyone = allOpenids(generatedFollowers(600));

function platformApi(authorizers: readonly FakeAuthorizer[], extra: Partial<FakeApiOptions> = {}): Promise<FakeApi> {
  return fake({
    platform: { componentAppid: FAKE_COMPONENT_APPID, componentToken: FAKE_COMPONENT_TOKEN, authorizers },
    pageSize: 40,
    ...extra,
  });
}

async function syncAuthorized(dir: string, api: FakeApi, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['sync', '--authorized', ...args], {
    cwd: dir,
    env: cleanEnv(dir, {
      WX_API_BASE_URL: api.url,
      WX_COMPONENT_APPID: FAKE_COMPONENT_APPID,
      WX_COMPONENT_TOKEN_COMMAND: COMPONENT_COMMAND,
      ...env,
    }),
  });
}

async function query(path: string, sql: string): Promise<SqlRow[]> {
  const db = await openDatabase(path, { readOnly: true });
  try {
    return await db.query(sql);
  } finally {
    await db.close();
  }
}

function summaryOf(text: string): Record<string, unknown>[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('sync --authorized', () => {
  it('syncs three accounts into one database twice, joins and leaves recorded per account; a refused refresh token (61023), a withdrawn authorization (61003), no user management and an AppID not listed each fail alone, in words; no secret anywhere', async () => {
    const [shop, news, promo, refused, withdrawn, noScope] = generatedAuthorizers(6) as [
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
      FakeAuthorizer,
    ];
    const lists = [changingList(everyone.slice(0, 100)), changingList(everyone.slice(100, 190)), changingList(everyone.slice(200, 230))];
    const [shopList, newsList, promoList] = lists as [(typeof lists)[0], (typeof lists)[0], (typeof lists)[0]];
    // Each also has a token the platform's server hands out, for the second night.
    const given = (authorizer: FakeAuthorizer): FakeAuthorizer => ({ ...authorizer, token: `GIVEN_${authorizer.appid}` });
    const api = await platformApi(
      [
        { ...given(shop), followers: shopList },
        { ...given(news), followers: newsList },
        { ...given(promo), followers: promoList },
        { ...refused, refreshRefused: true, followers: changingList(everyone.slice(300, 310)) },
        { ...withdrawn, withdrawn: true },
        // Without user management: user/get's 48001 says it (sync fetches no names, so no scopes).
        { ...noScope, funcScopes: [1, 3], followers: changingList(everyone.slice(310, 320)) },
      ],
      {
        // Its errmsg quotes the run's secrets: blanked on stderr, in the summary and in the run's row of the database.
        fault: (call) =>
          call.path === '/cgi-bin/user/get' && call.query.get('access_token')?.includes(noScope.appid) === true
            ? { kind: 'errcode', errcode: 48001, errmsg: `api unauthorized ${FAKE_COMPONENT_TOKEN} ${noScope.refreshToken}` }
            : undefined,
      },
    );
    const dir = await tempDir();
    const db = join(dir, 'agency.db');
    // The first night: every account, api_authorizer_token with the list's refresh tokens.
    const first = await syncAuthorized(dir, api, ['--db', 'agency.db', '--accounts-concurrency', '2', '--summary', 'first.ndjson']);
    expect(first.code).toBe(3);
    expect(first.stdout.length).toBe(0);
    expect(first.stderr).toMatch(
      new RegExp(
        `^wx-followers \\[${refused.appid}\\]: The API refused the account's authorizer refresh token .*must authorize the platform again`,
        'm',
      ),
    );
    // Not "the next sync goes on" as if running again would do: once put right; and not at all for one that withdrew.
    expect(first.stderr).toMatch(
      new RegExp(
        `^wx-followers \\[${refused.appid}\\]: 0 followers recorded .* Once that is put right, the next sync goes on from the first page\\.$`,
        'm',
      ),
    );
    expect(first.stderr).toMatch(
      new RegExp(`^wx-followers \\[${withdrawn.appid}\\]: This account withdrew its authorization .*Remove it from --authorized`, 'm'),
    );
    expect(first.stderr).toMatch(
      new RegExp(
        `^wx-followers \\[${withdrawn.appid}\\]: 0 followers recorded .*nobody is marked as left until a walk is complete\\.$`,
        'm',
      ),
    );
    expect(first.stderr).toContain(
      `wx-followers: 3 of 6 accounts synced:\n` +
        `  ${shop.appid}: complete (baseline) into agency.db, 100 followers\n` +
        `  ${news.appid}: complete (baseline) into agency.db, 90 followers\n` +
        `  ${promo.appid}: complete (baseline) into agency.db, 30 followers\n` +
        `  ${refused.appid}: failed (exit 3) into agency.db, 0 followers this run, 0 joined: The API refused the account's authorizer refresh token`,
    );
    expect(first.stderr).toMatch(new RegExp(`^ {2}${withdrawn.appid}: failed \\(exit 3\\) .*: This account withdrew`, 'm'));
    expect(first.stderr).toMatch(
      new RegExp(`^ {2}${noScope.appid}: failed \\(exit 3\\) .*api unauthorized \\[redacted\\] \\[redacted\\].*user management`, 'm'),
    );
    const firstSummary = await readFile(join(dir, 'first.ndjson'), 'utf8');
    expect(
      summaryOf(firstSummary).map(({ profile, appid, status, exitCode, followers, database }) => [
        profile,
        appid,
        status,
        exitCode,
        followers,
        database,
      ]),
    ).toEqual([
      [undefined, shop.appid, 'complete', 0, 100, 'agency.db'],
      [undefined, news.appid, 'complete', 0, 90, 'agency.db'],
      [undefined, promo.appid, 'complete', 0, 30, 'agency.db'],
      [undefined, refused.appid, 'failed', 3, 0, 'agency.db'],
      [undefined, withdrawn.appid, 'failed', 3, 0, 'agency.db'],
      [undefined, noScope.appid, 'failed', 3, 0, 'agency.db'],
    ]);
    // The second night: news lost two and gained three; the others did not change. The tokens now come from the platform's server.
    newsList.set([...everyone.slice(100, 190).filter((_, index) => index !== 5 && index !== 50), ...everyone.slice(400, 403)]);
    const tokenCalls = api.calls.filter((call) => call.path === TOKEN_PATH).length;
    const second = await syncAuthorized(
      dir,
      api,
      [`${shop.appid},${news.appid},wx0000000000000000,${promo.appid}`, '--db', 'agency.db', '--summary', 'second.ndjson'],
      {
        WX_AUTHORIZER_TOKEN_COMMAND: `"${process.execPath}" "${FIXTURE}" token GIVEN_{appid}`,
      },
    );
    // An AppID the platform does not list fails alone, before any sync of it.
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(
      `wx-followers: 3 of 4 accounts synced:\n` +
        `  ${shop.appid}: complete into agency.db, 100 followers, 0 joined, 0 left\n` +
        `  ${news.appid}: complete into agency.db, 91 followers, 3 joined, 2 left\n` +
        `  wx0000000000000000: failed (exit 3) into agency.db, 0 followers this run, 0 joined: wx0000000000000000 is not among the 6 accounts that authorized the platform (component AppID ${FAKE_COMPONENT_APPID}): it never did, withdrew, or the AppID is mistyped. Correct it or remove it from --authorized: \`wx-followers accounts\` lists those that did.\n` +
        `  ${promo.appid}: complete into agency.db, 30 followers, 0 joined, 0 left\n`,
    );
    expect(api.calls.filter((call) => call.path === TOKEN_PATH).length).toBe(tokenCalls);
    expect(await query(db, 'SELECT appid, openid, kind FROM wx_changes ORDER BY appid, kind, openid')).toEqual([
      ...everyone.slice(400, 403).map((openid) => ({ appid: news.appid, openid, kind: 'joined' })),
      ...[everyone[105], everyone[150]].sort().map((openid) => ({ appid: news.appid, openid, kind: 'left' })),
    ]);
    expect(await query(db, 'SELECT appid, COUNT(*) AS runs, SUM(complete) AS complete FROM wx_runs GROUP BY appid ORDER BY appid')).toEqual(
      [
        { appid: shop.appid, runs: 2, complete: 2 },
        { appid: news.appid, runs: 2, complete: 2 },
        { appid: promo.appid, runs: 2, complete: 2 },
        { appid: refused.appid, runs: 1, complete: 0 },
        { appid: withdrawn.appid, runs: 1, complete: 0 },
        { appid: noScope.appid, runs: 1, complete: 0 },
      ],
    );
    expect(await query(db, `SELECT stop_reason FROM wx_runs WHERE appid = '${noScope.appid}'`)).toEqual([
      { stop_reason: expect.stringContaining('api unauthorized [redacted] [redacted]') },
    ]);
    expect(await query(db, `SELECT COUNT(*) AS n FROM wx_followers WHERE appid = '${news.appid}' AND left_at IS NULL`)).toEqual([
      { n: 91 },
    ]);
    const files = await Promise.all((await readdir(dir)).map((name) => readFile(join(dir, name), 'latin1')));
    const everything = [first.stdout.toString(), first.stderr, second.stdout.toString(), second.stderr, ...files];
    expect(everything.join('\n')).not.toMatch(SECRETS);
  });

  it("61004 (this IP off the platform's whitelist) on one account starts no other; the database from the platform profile's db; a refused component token is exit 3 before any sync, no database created", async () => {
    const authorizers = generatedAuthorizers(3).map(
      (authorizer, index): FakeAuthorizer => ({
        ...authorizer,
        followers: changingList(everyone.slice(index * 50, index * 50 + 50)),
      }),
    );
    const [first, second, third] = authorizers as [FakeAuthorizer, FakeAuthorizer, FakeAuthorizer];
    const api = await platformApi(authorizers, {
      fault: (call) =>
        call.path === '/cgi-bin/user/get' && call.query.get('access_token')?.includes(second.appid) === true
          ? { kind: 'errcode', errcode: 61004, errmsg: 'access clientip is not registered requestIP: 203.0.113.9' }
          : undefined,
    });
    const dir = await tempDir();
    const agency = { 'component-appid': FAKE_COMPONENT_APPID, 'component-token-command': COMPONENT_COMMAND, db: 'from-profile.db' };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { agency } }));
    const stopped = await runCli(['sync', '--profile', 'agency', '--authorized'], {
      cwd: dir,
      env: cleanEnv(dir, { WX_API_BASE_URL: api.url }),
    });
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(new RegExp(`^ {2}${first.appid}: complete \\(baseline\\) into from-profile\\.db, 50 followers$`, 'm'));
    expect(stopped.stderr).toMatch(
      new RegExp(
        `^ {2}${second.appid}: failed \\(exit 3\\) into from-profile\\.db, .*203\\.0\\.113\\.9.*third-party platform's IP whitelist`,
        'm',
      ),
    );
    expect(stopped.stderr).toMatch(
      new RegExp(`^ {2}${third.appid}: not started \\(exit 3\\): ${second.appid} met a failure every account would meet`, 'm'),
    );
    expect(api.accountCounts(third.appid).calls).toBe(0);
    expect(await query(join(dir, 'from-profile.db'), 'SELECT appid, complete FROM wx_runs ORDER BY id')).toEqual([
      { appid: first.appid, complete: 1 },
      { appid: second.appid, complete: 0 },
    ]);
    const refusedDir = await tempDir();
    const refused = await syncAuthorized(refusedDir, api, [], {
      WX_COMPONENT_TOKEN_COMMAND: `"${process.execPath}" "${FIXTURE}" token NOT_THE_COMPONENT_TOKEN_0123456789`,
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refused the access token that the token command/);
    expect(await readdir(refusedDir)).toEqual([]);
    expect(stopped.stderr + refused.stderr).not.toMatch(SECRETS);
  });
});
