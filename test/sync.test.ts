import { spawn } from 'node:child_process';
import { chmod, chown, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SqlRow } from '../src/out/db/database.js';
import { openDatabase } from '../src/out/db/open.js';
import { makeWritableAdvice } from '../src/plan/file-owner.js';
import { changingList, generatedFollowers } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_TOKEN, type FakeAccount, type FakeApi } from './fake-api/server.js';
import { configWith, threeAccounts } from './helpers/accounts.js';
import { BIN, cleanEnv, onPosix, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const everyone = Array.from({ length: 400 }, (_, index) => generatedFollowers(400).at(index));

async function sync(api: FakeApi, dir: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['sync', '--base-url', api.url, '--appid', FAKE_APPID, ...args], {
    env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }),
    cwd: dir,
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

function listCalls(api: FakeApi): string[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/get').map((call) => call.query.get('next_openid') ?? 'first');
}

function detailsAsked(api: FakeApi): string[][] {
  return api.calls
    .filter((call) => call.path === '/cgi-bin/user/info/batchget')
    .map((call) => (JSON.parse(call.body) as { user_list: { openid: string }[] }).user_list.map((entry) => entry.openid));
}

describe('wx-followers sync', () => {
  it('records a baseline, then who joined and who left, a return as a new join; the default database in the working folder', async () => {
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100 });
    const dir = await tempDir();
    const db = join(dir, 'wx-followers.db');
    const first = await sync(api, dir);
    expect(first.code).toBe(0);
    expect(first.stdout.length).toBe(0);
    expect(first.stderr).toBe(
      `wx-followers: ${FAKE_APPID} in wx-followers.db: baseline recorded, 250 followers (the walk is complete); joins and leaves are counted from the next sync.\n`,
    );
    // Followers in list order (their ids); the walk's record of whom it saw is gone once it is complete.
    expect(
      await query(
        db,
        'SELECT COUNT(*) AS n, MIN(openid) = (SELECT openid FROM wx_followers WHERE id = 1) AS first, (SELECT COUNT(*) FROM wx_walk_seen) AS seen FROM wx_followers WHERE left_at IS NULL',
      ),
    ).toEqual([{ n: 250, first: 1, seen: 0 }]);
    expect(await query(db, 'SELECT COUNT(*) AS n FROM wx_changes')).toEqual([{ n: 0 }]);
    // Two left (the 11th and the 101st), three joined.
    const second = everyone.slice(0, 250).filter((_, index) => index !== 10 && index !== 100);
    list.set([...second, ...everyone.slice(300, 303)]);
    const next = await sync(api, dir);
    expect(next.code).toBe(0);
    expect(next.stderr).toBe(`wx-followers: ${FAKE_APPID} in wx-followers.db: the walk is complete: 251 followers, 3 joined, 2 left.\n`);
    expect(await query(db, 'SELECT run_id, openid, kind FROM wx_changes ORDER BY kind, openid')).toEqual([
      ...everyone.slice(300, 303).map((openid) => ({ run_id: 2, openid, kind: 'joined' })),
      ...[everyone[10], everyone[100]].map((openid) => ({ run_id: 2, openid, kind: 'left' })),
    ]);
    // The 11th comes back: a new join, first seen still at the baseline.
    list.set([...second, everyone[10] as string]);
    expect((await sync(api, dir)).stderr).toMatch(/: the walk is complete: 249 followers, 1 joined, 3 left\.\n$/);
    const [back] = await query(db, `SELECT first_seen, joined_at, left_at FROM wx_followers WHERE openid = '${everyone[10]}'`);
    expect(back?.['left_at']).toBeNull();
    expect(Number(back?.['joined_at'])).toBeGreaterThanOrEqual(Number(back?.['first_seen']));
    expect(await query(db, `SELECT run_id, kind FROM wx_changes WHERE openid = '${everyone[10]}' ORDER BY run_id, kind`)).toEqual([
      { run_id: 2, kind: 'left' },
      { run_id: 3, kind: 'joined' },
    ]);
    expect(await query(db, 'SELECT id, walk_id, complete, followers, joined, left_count, cursor, total, stop_reason FROM wx_runs')).toEqual(
      [
        { id: 1, walk_id: 1, complete: 1, followers: 250, joined: 0, left_count: 0, cursor: null, total: 250, stop_reason: 'complete' },
        { id: 2, walk_id: 2, complete: 1, followers: 251, joined: 3, left_count: 2, cursor: null, total: 251, stop_reason: 'complete' },
        { id: 3, walk_id: 3, complete: 1, followers: 249, joined: 1, left_count: 3, cursor: null, total: 249, stop_reason: 'complete' },
      ],
    );
  });

  it('a walk stopped by --limit, then by --max-calls, is continued by the next runs, and only its end marks who left', async () => {
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100 });
    const dir = await tempDir();
    const db = join(dir, 'f.db');
    expect((await sync(api, dir, ['--db', 'f.db'])).code).toBe(0);
    list.set(everyone.slice(50, 350));
    const limited = await sync(api, dir, ['--db', 'f.db', '--limit', '150']);
    expect(limited.code).toBe(0);
    expect(limited.stderr).toMatch(
      /: stopped at --limit 150, 150 followers recorded this run \(150 of this walk\), 0 joined; nobody is marked as left until a walk is complete\. The next sync goes on after (\S+)\.\n$/,
    );
    expect(limited.stderr).toContain(`after ${everyone[199]}.`);
    expect(await query(db, 'SELECT COUNT(*) AS n FROM wx_followers WHERE left_at IS NOT NULL')).toEqual([{ n: 0 }]);
    const budget = await sync(api, dir, ['--db', 'f.db', '--max-calls', '1']);
    expect(budget.code).toBe(0);
    expect(budget.stderr).toMatch(/stopped at --max-calls 1, 100 followers recorded this run \(250 of this walk\), 50 joined;/);
    const calls = api.calls.length;
    const last = await sync(api, dir, ['--db', 'f.db']);
    expect(last.stderr).toMatch(/: the walk is complete: 300 followers \(50 seen by this run, 50 joined\), 50 left\.\n$/);
    // Each run went on after the cursor the last one committed.
    expect(api.calls.slice(calls).map((call) => call.query.get('next_openid'))).toEqual([everyone[299], everyone[349]]);
    expect(await query(db, 'SELECT walk_id, complete, followers, cursor, stop_reason FROM wx_runs WHERE id > 1')).toEqual([
      { walk_id: 2, complete: 0, followers: 150, cursor: everyone[199], stop_reason: '--limit 150 reached' },
      { walk_id: 2, complete: 0, followers: 100, cursor: everyone[299], stop_reason: '--max-calls 1 reached' },
      { walk_id: 2, complete: 1, followers: 50, cursor: null, stop_reason: 'complete' },
    ]);
    expect(await query(db, "SELECT COUNT(*) AS n FROM wx_changes WHERE kind = 'left' AND run_id = 4")).toEqual([{ n: 50 }]);
    const restarted = await sync(api, dir, ['--db', 'f.db', '--restart', '--limit', '100']);
    expect(restarted.stderr).toContain('(100 of this walk)');
  });

  it('a continued walk whose cursor the API no longer knows (that follower left) walks again from the first page', async () => {
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100 });
    const dir = await tempDir();
    expect((await sync(api, dir, ['--db', 'f.db'])).code).toBe(0);
    expect((await sync(api, dir, ['--db', 'f.db', '--limit', '100'])).code).toBe(0);
    list.set(everyone.slice(0, 250).filter((_, index) => index !== 99));
    const calls = api.calls.length;
    const next = await sync(api, dir, ['--db', 'f.db']);
    expect(next.code).toBe(0);
    expect(next.stderr).toBe(
      `wx-followers: the API no longer knows ${everyone[99]}, where the walk this run was to continue stopped (that follower left since): walking the list again from its first page.\n` +
        `wx-followers: ${FAKE_APPID} in f.db: the walk is complete: 249 followers, 0 joined, 1 left.\n`,
    );
    expect(api.calls.slice(calls).map((call) => call.query.get('next_openid'))).toEqual([
      everyone[99],
      null,
      everyone[100],
      everyone[200],
      everyone[249],
    ]);
    expect(await query(join(dir, 'f.db'), 'SELECT id, walk_id, complete FROM wx_runs WHERE id = 3')).toEqual([
      { id: 3, walk_id: 3, complete: 1 },
    ]);
    // A cursor edited by hand into something no OpenID looks like is never sent: a new walk, with a note.
    expect((await sync(api, dir, ['--db', 'f.db', '--limit', '100'])).code).toBe(0);
    const edited = await openDatabase(join(dir, 'f.db'), { readOnly: false });
    await edited.query("UPDATE wx_runs SET cursor = 'not an openid\u001b[2J' WHERE id = 4");
    await edited.close();
    const before = api.calls.length;
    const again = await sync(api, dir, ['--db', 'f.db']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(
      "wx-followers: the walk this run was to continue stopped at 'not an openid\\u{1b}[2J', which is not an OpenID (was wx_runs edited?): walking the list again from its first page.\n" +
        `wx-followers: ${FAKE_APPID} in f.db: the walk is complete: 249 followers, 0 joined, 0 left.\n`,
    );
    expect(api.calls.slice(before).map((call) => call.query.get('next_openid'))).toEqual([
      null,
      everyone[100],
      everyone[200],
      everyone[249],
    ]);
    expect(await query(join(dir, 'f.db'), 'SELECT id, walk_id, complete FROM wx_runs WHERE id = 5')).toEqual([
      { id: 5, walk_id: 5, complete: 1 },
    ]);
  });

  it.runIf(onPosix)('a first signal commits the page in hand and stops (exit 130); the next run goes on from there', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const api = await fake({
      followers: 500,
      pageSize: 100,
      fault: (call) => (call.path === '/cgi-bin/user/get' && call.index > 3 ? { kind: 'hold', until: held } : undefined),
    });
    const dir = await tempDir();
    const child = spawn(process.execPath, [BIN, 'sync', '--base-url', api.url, '--appid', FAKE_APPID, '--db', 'f.db'], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (api.calls.length < 4) await new Promise((resolve) => setTimeout(resolve, 10));
    // Three pages answered and the fourth held: the run waits with no page in hand once they are committed.
    while ((await runsOf(join(dir, 'f.db')))[0]?.['cursor'] !== api.followers.at(299))
      await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    release();
    expect(stderr).toMatch(/SIGINT: stopping \(no page in hand\)/);
    expect(stderr).toMatch(
      /300 followers recorded this run \(300 of this walk\), 0 joined; nobody is marked as left until a walk is complete\. The next sync goes on after \S+\.\n$/,
    );
    expect(await runsOf(join(dir, 'f.db'))).toEqual([{ cursor: api.followers.at(299), complete: 0, stop_reason: 'Interrupted (SIGINT).' }]);
    const next = await sync(api, dir, ['--db', 'f.db']);
    expect(next.stderr).toMatch(/baseline recorded, 500 followers \(200 seen by this run; the walk is complete\)/);
    expect(listCalls(api).at(-3)).toBe(api.followers.at(299));
  });

  it('two accounts (profiles) in one database; a second sync of an account under way is refused (exit 1)', async () => {
    const [shop, news] = threeAccounts(120) as [FakeAccount, FakeAccount];
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const api = await fake({
      accounts: [shop, news],
      pageSize: 50,
      fault: (call) => (holding && call.path === '/cgi-bin/user/get' ? { kind: 'hold', until: held } : undefined),
    });
    const dir = await tempDir();
    await configWith(dir, api, [shop, news]);
    const both = await runCli(['sync', '--all-profiles', '--db', 'all.db', '--summary', 'summary.ndjson'], {
      env: cleanEnv(dir),
      cwd: dir,
    });
    expect(both.code).toBe(0);
    expect(both.stderr).toMatch(/^wx-followers \[shop\]: wx1{16} in all\.db: baseline recorded, 120 followers/m);
    expect(both.stderr).toMatch(
      /\nwx-followers: 2 of 2 accounts synced:\n {2}shop: complete \(baseline\) into all\.db, 120 followers\n {2}news: complete \(baseline\) into all\.db, 120 followers\n$/,
    );
    expect(await query(join(dir, 'all.db'), 'SELECT appid, COUNT(*) AS n FROM wx_followers GROUP BY appid ORDER BY appid')).toEqual([
      { appid: shop.appid, n: 120 },
      { appid: news.appid, n: 120 },
    ]);
    expect(JSON.parse((await readFile(join(dir, 'summary.ndjson'), 'utf8')).split('\n')[1] ?? '')).toMatchObject({
      profile: 'news',
      status: 'complete',
      followers: 120,
    });
    // A sync of shop held mid-walk: a second one of shop is refused.
    holding = true;
    const first = runCli(['sync', '--profile', 'shop', '--db', 'all.db'], { env: cleanEnv(dir), cwd: dir });
    while (!(await readdir(dir)).some((name) => name.startsWith('all.db-') && name.endsWith('.lock')))
      await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await runCli(['sync', '--profile', 'shop', '--db', 'all.db'], { env: cleanEnv(dir), cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /^wx-followers: Another sync of wx1{16} into all\.db is under way \(pid \d+ on .+\); all\.db-wx1{16}\.lock is its lock\. Let it finish/,
    );
    holding = false;
    release();
    expect((await first).code).toBe(0);
    expect(await query(join(dir, 'all.db'), 'SELECT appid, complete FROM wx_runs ORDER BY id')).toEqual([
      { appid: shop.appid, complete: 1 },
      { appid: news.appid, complete: 1 },
      { appid: shop.appid, complete: 1 },
    ]);
  });

  it("several accounts: a continued walk is summed up with the walk's followers beside this run's, counts grouped, on stderr and in --summary", async () => {
    const many = generatedFollowers(4_000);
    const shopList = changingList(Array.from({ length: 2_000 }, (_, index) => many.at(index)));
    const [, news] = threeAccounts(120) as [FakeAccount, FakeAccount];
    const shop: FakeAccount = { appid: `wx${'1'.repeat(16)}`, secret: 'SECRET_OF_SHOP_0123456789', followers: shopList };
    const api = await fake({ accounts: [shop, news], pageSize: 1_000 });
    const dir = await tempDir();
    await configWith(dir, api, [shop, news]);
    const syncAll = (args: readonly string[]): Promise<CliResult> =>
      runCli(['sync', '--all-profiles', '--db', 'all.db', '--summary', 'summary.ndjson', ...args], { env: cleanEnv(dir), cwd: dir });
    expect((await syncAll([])).stderr).toMatch(/\n {2}shop: complete \(baseline\) into all\.db, 2,000 followers\n/);
    // 800 left, 2,000 joined; the walk is stopped after its first page, then continued.
    shopList.set(Array.from({ length: 3_200 }, (_, index) => many.at(index + 800)));
    const limited = await syncAll(['--limit', '1000']);
    expect(limited.stderr).toContain(
      `\n  shop: stopped early into all.db, 1,000 followers this run, 0 joined; the next sync goes on after ${many.at(1_799)}\n`,
    );
    const rest = await syncAll([]);
    expect(rest.code).toBe(0);
    expect(rest.stderr).toMatch(
      /^wx-followers \[shop\]: wx1{16} in all\.db: the walk is complete: 3,200 followers \(2,200 seen by this run, 2,000 joined\), 800 left\.$/m,
    );
    expect(rest.stderr).toMatch(
      /\nwx-followers: 2 of 2 accounts synced:\n {2}shop: complete into all\.db, 3,200 followers \(2,200 seen by this run, 2,000 joined\), 800 left\n {2}news: complete into all\.db, 120 followers, 0 joined, 0 left\n$/,
    );
    const [summary] = (await readFile(join(dir, 'summary.ndjson'), 'utf8')).split('\n');
    expect(JSON.parse(summary ?? '')).toMatchObject({
      profile: 'shop',
      status: 'complete',
      followers: 2_200,
      walked: 3_200,
      joined: 2_000,
      left: 800,
    });
  });

  it('refuses a database of a newer schema and a read-only one (exit 2), before any call and leaving them as they were', async () => {
    const api = await fake({ followers: 50 });
    const dir = await tempDir();
    expect((await sync(api, dir, ['--db', 'f.db'])).code).toBe(0);
    const path = join(dir, 'f.db');
    const db = await openDatabase(path, { readOnly: false });
    await db.query('UPDATE wx_schema SET version = 2');
    await db.close();
    const before = await readFile(path);
    const calls = api.calls.length;
    const newer = await sync(api, dir, ['--db', 'f.db']);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(
      /^wx-followers: f\.db holds schema version 2, newer than version 1, the newest this wx-followers knows.*Nothing was changed/,
    );
    expect(await readFile(path)).toEqual(before);
    const readOnly = join(dir, 'ro.db');
    expect((await sync(api, dir, ['--db', 'ro.db'])).code).toBe(0);
    await chmod(readOnly, 0o444);
    const size = (await stat(readOnly)).size;
    const callsBefore = api.calls.length;
    const refused = await runCli(['sync', '--base-url', api.url, '--appid', FAKE_APPID, '--db', 'ro.db'], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
      unprivileged: true,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^wx-followers: The database ro\.db \(--db\) is read-only for this user: the sync writes into it\. Make it writable/,
    );
    expect((await stat(readOnly)).size).toBe(size);
    expect(api.calls.length).toBe(callsBefore);
    expect(calls).toBe(2);
  });

  it('a read-only database of another user names its owner to ask, not a chmod that only the owner could run', async () => {
    expect(await makeWritableAdvice('/srv/f.db', { uid: 1000 }, 1000)).toBe('Make it writable (chmod u+w /srv/f.db)');
    expect(await makeWritableAdvice('/srv/f.db', { uid: 0 }, 1000)).toMatch(
      /^It belongs to (root \(uid 0\)|uid 0), not to this user: ask its owner \(or an administrator\) to make it writable for you, or run as its owner$/,
    );
    expect(await makeWritableAdvice('C:\\f.db', { uid: 0 }, null)).toBe("Make it writable (clear Read-only in the file's Properties)");
    if (process.getuid?.() !== 0 || process.platform !== 'linux') return;
    // As root, a file of another user (65534, nobody) that the run without root's override cannot write.
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    expect((await sync(api, dir, ['--db', 'theirs.db'])).code).toBe(0);
    await chown(join(dir, 'theirs.db'), 65534, 65534);
    await chmod(join(dir, 'theirs.db'), 0o644);
    const refused = await runCli(['sync', '--base-url', api.url, '--appid', FAKE_APPID, '--db', 'theirs.db'], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
      unprivileged: true,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^wx-followers: The database theirs\.db \(--db\) is read-only for this user: the sync writes into it\. It belongs to (\S+ )?\(?uid 65534\)?, not to this user: ask its owner/,
    );
  });

  it('--with-info fetches the details of the new and the stale only, in batches of 100, and leaves the rest to the next run when the batchget quota is spent', async () => {
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100, dailyQuotas: { '/cgi-bin/user/info/batchget': 2 } });
    const dir = await tempDir();
    const db = join(dir, 'f.db');
    const first = await sync(api, dir, ['--db', 'f.db', '--with-info']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(
      /today's batchget quota is spent \(it resets 00:00 China Standard Time, in .+\): 200 followers' details fetched; the rest wait for the next sync\./,
    );
    expect(detailsAsked(api).map((batch) => batch.length)).toEqual([100, 100, 50]);
    expect(await query(db, 'SELECT COUNT(*) AS n FROM wx_followers WHERE details_at IS NOT NULL')).toEqual([{ n: 200 }]);
    api.newDay();
    list.set([...everyone.slice(0, 250), ...everyone.slice(390, 393)]);
    const asked = detailsAsked(api).length;
    const next = await sync(api, dir, ['--db', 'f.db', '--with-info', '--lang', 'en']);
    expect(next.stderr).toMatch(/: the walk is complete: 253 followers, 3 joined, 0 left\. Details fetched for 53 followers\.\n$/);
    expect(detailsAsked(api).slice(asked).flat().sort()).toEqual([...everyone.slice(200, 250), ...everyone.slice(390, 393)].sort());
    const [row] = await query(
      db,
      `SELECT subscribe_time, language, tagid_list, details_at FROM wx_followers WHERE openid = '${everyone[391]}'`,
    );
    // The fake answers by the OpenID's place in today's list: the 252nd.
    expect(row).toMatchObject({ subscribe_time: 1_500_000_000 + 251 * 3_607, language: 'zh_TW', tagid_list: '[2,101]' });
    // Details of more than --details-max-age ago are fetched again; the others are not.
    const old = await openDatabase(db, { readOnly: false });
    await old.query(`UPDATE wx_followers SET details_at = details_at - 3 * 86400 WHERE openid IN ('${everyone[5]}', '${everyone[6]}')`);
    await old.close();
    const stale = detailsAsked(api).length;
    expect((await sync(api, dir, ['--db', 'f.db', '--with-info', '--details-max-age', '2d'])).code).toBe(0);
    expect(detailsAsked(api).slice(stale)).toEqual([[everyone[5], everyone[6]]]);
  });
});

async function runsOf(path: string): Promise<SqlRow[]> {
  try {
    return await query(path, 'SELECT cursor, complete, stop_reason FROM wx_runs');
  } catch {
    return [];
  }
}
