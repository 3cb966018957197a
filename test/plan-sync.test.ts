/**
 * The sync's plan, in-process: flags, environment and config become one checked plan, or a usage
 * error naming the next step, and nothing is created, locked or requested on the way.
 */
import { link, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSync, planSyncAccounts, type SyncFlags } from '../src/plan/sync.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const TOKEN = 'plan-test-token';
const APPID = 'wx1234567890abcdef';

async function plan(flags: Partial<SyncFlags>, env: NodeJS.ProcessEnv = {}, configDir?: string) {
  const dir = configDir ?? (await tempDir());
  const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir, ...env });
  return planSync({ progress: false, accessToken: TOKEN, appid: APPID, ...flags }, io);
}

async function usageMessage(flags: Partial<SyncFlags>, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return usageOf(plan(flags, env));
}

describe('planSync', () => {
  it('plans the default database, a new walk or the unfinished one, and no details unless asked', async () => {
    const dir = await tempDir();
    expect(await plan({ db: join(dir, 'f.db') })).toMatchObject({
      appid: APPID,
      database: { engine: 'sqlite', target: join(dir, 'f.db'), origin: '--db', version: undefined },
      restart: false,
      limit: undefined,
      maxCalls: undefined,
      details: undefined,
    });
    expect((await plan({}, {})).database).toMatchObject({ target: 'wx-followers.db', origin: 'the default' });
    expect((await plan({}, { WX_DB: join(dir, 'env.db') })).database).toMatchObject({ target: join(dir, 'env.db'), origin: 'WX_DB' });
    expect((await plan({ db: join(dir, 'flag.db') }, { WX_DB: join(dir, 'env.db') })).database.origin).toBe('--db');
    expect(await plan({ db: join(dir, 'f.db'), restart: true, limit: '10', maxCalls: '3' })).toMatchObject({
      restart: true,
      limit: 10,
      maxCalls: 3,
    });
    // Nothing created: no database, no journal, no lock.
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes a profile's db setting when neither --db nor WX_DB is given", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ profiles: { shop: { appid: APPID, 'access-token': TOKEN, db: join(dir, 'shop.db') } } }),
    );
    const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
    expect((await planSync({ progress: false, profile: 'shop' }, io)).database).toMatchObject({
      target: join(dir, 'shop.db'),
      origin: 'config key db of profile shop',
    });
  });

  it('takes --with-info with its age, language and concurrency, and refuses them without it', async () => {
    const db = join(await tempDir(), 'f.db');
    expect((await plan({ db, withInfo: true })).details).toEqual({ lang: 'zh_CN', concurrency: 8, maxAgeSeconds: 30 * 86_400 });
    expect((await plan({ db, withInfo: true, detailsMaxAge: '12h', lang: 'en', concurrency: '2' })).details).toEqual({
      lang: 'en',
      concurrency: 2,
      maxAgeSeconds: 12 * 3600,
    });
    expect((await plan({ db, withInfo: true, detailsMaxAge: '1h' })).details?.maxAgeSeconds).toBe(3600);
    expect((await plan({ db, withInfo: true, detailsMaxAge: '2W' })).details?.maxAgeSeconds).toBe(14 * 86_400);
    expect(await usageMessage({ db, detailsMaxAge: '7d' })).toBe('--details-max-age goes with --with-info.');
    expect(await usageMessage({ db, lang: 'en' })).toBe('--lang goes with --with-info.');
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '30 days' })).toBe(
      "--details-max-age '30 days' is not an age in hours, days or weeks: give a number and h, d or w, such as 30d, 12h or 2w.",
    );
    // m was minutes where a month was meant; seconds, months, years are not taken either.
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '1m' })).toMatch(
      /^--details-max-age '1m' is not an age in hours, days or weeks \(a month is 30d\): give a number and h, d or w, such as 30d/,
    );
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '1mo' })).toMatch(/\(a month is 30d\)/);
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '1y' })).toMatch(/\(a year is 365d\)/);
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '3600s' })).toMatch(/^--details-max-age '3600s' is not an age in hours/);
    expect(await usageMessage({ db, withInfo: true, detailsMaxAge: '7' })).toMatch(
      /is not an age in hours, days or weeks: give a number and h/,
    );
    // Under an hour: every run would fetch every detail again.
    for (const age of ['0', '0h', '0d']) {
      expect(await usageMessage({ db, withInfo: true, detailsMaxAge: age })).toBe(
        `--details-max-age '${age}' is under an hour: every sync would fetch all the details again and spend the batchget quota. Give 1h or more, such as 30d.`,
      );
    }
    expect(await usageMessage({ db, limit: '0' })).toMatch(/--limit/);
  });

  it('needs an AppID: the database keeps each account under it', async () => {
    expect(await usageMessage({ appid: undefined, db: join(await tempDir(), 'f.db') })).toMatch(
      /^sync keeps each account's followers under its AppID, and this run knows none \(the token comes from --access-token\): give --appid/,
    );
  });

  it('refuses a folder, a symbolic link, a missing folder and a file that is no database, with the next step', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'folder.db'));
    expect(await usageMessage({ db: join(dir, 'folder.db') })).toMatch(
      /is a folder: give a file in it, such as --db .*folder\.db\/wx-followers\.db\.$/,
    );
    await writeFile(join(dir, 'real.db'), '');
    await symlink(join(dir, 'real.db'), join(dir, 'link.db'));
    expect(await usageMessage({ db: join(dir, 'link.db') })).toMatch(
      /link\.db \(--db\) is a symbolic link: .*Give --db the file it points to\.$/,
    );
    expect(await usageMessage({ db: join(dir, 'missing', 'f.db') })).toMatch(
      /the folder .*missing does not exist\. Create it first \(mkdir -p .*missing\)/,
    );
    await writeFile(join(dir, 'text.db'), 'not a database at all, just text that is long enough to be read as a header\n'.repeat(20));
    expect(await usageMessage({ db: join(dir, 'text.db') })).toMatch(
      /text\.db is not a SQLite database \(.*\): give --db a database the tool made/,
    );
    await symlink(join(dir, 'elsewhere'), join(dir, 'real.db-wal'));
    expect(await usageMessage({ db: join(dir, 'real.db') })).toMatch(
      /real\.db-wal, beside the database .*real\.db, is a symbolic link: it is left as it is/,
    );
    expect(await usageMessage({ db: '' })).toMatch(/^--db is empty/);
    // A PostgreSQL URL is checked before anything is opened: malformed, or plain to another host.
    expect(await usageMessage({ db: 'postgres://wx:pw@127.0.0.1/wx?sslmode=maybe' })).toMatch(
      /^The database URL from --db has sslmode=maybe/,
    );
    expect(await usageMessage({ db: 'postgres://wx:pw@db.example/wx?sslmode=disable' })).toMatch(/plain connection \(sslmode=disable\)/);
  });

  it('refuses names SQLite reads as a URI or a memory database, and a database with another name (hard link)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'real.db'), '');
    await symlink(join(dir, 'real.db'), join(dir, 'link.db'));
    for (const db of [`file:${join(dir, 'link.db')}`, 'file:x.db?mode=memory', 'FILE:x.db', ':memory:']) {
      expect(await usageMessage({ db })).toMatch(
        / \(--db\) would be read by SQLite as (a URI|a database in memory), not as a file: give a plain file path \(\.\//,
      );
    }
    expect(await usageMessage({ db: 'file:x.db' })).toBe(
      "The database file:x.db (--db) would be read by SQLite as a URI, not as a file: give a plain file path (./file:x.db if the file's name really is that).",
    );
    // What the advice says works: ./file:x.db is a file's name.
    expect((await plan({ db: join(dir, 'file:x.db') })).database.target).toBe(join(dir, 'file:x.db'));
    await link(join(dir, 'real.db'), join(dir, 'other.db'));
    expect(await usageMessage({ db: join(dir, 'real.db') })).toMatch(
      /^The database .*real\.db \(--db\) has 1 other name \(hard links\): SQLite keeps its journal and the tool its lock beside one name, so runs through two names could corrupt it\. Give --db a database with one name/,
    );
    expect((await readdir(dir)).sort()).toEqual(['link.db', 'other.db', 'real.db']);
  });

  it('refuses typos that would create a file: -, postgres: without its //, a URL of another scheme', async () => {
    const refusals: [string, string][] = [
      ['-', 'The database - (--db): a database cannot be read from stdin or written to stdout: give a SQLite file path'],
      [
        'postgres:wx@db.example/f',
        'The database postgres:wx@db.example/f (--db) lacks the // of a PostgreSQL URL: write it as postgres://user@host/db.',
      ],
      ['postgresql:/db', 'lacks the // of a PostgreSQL URL'],
      [
        'mysql://x/y',
        'The database mysql://x/y (--db) is a mysql:// URL, which this tool does not take: give a SQLite file path (followers.db) or a PostgreSQL URL (postgres://user@host/db).',
      ],
      ['sqlite://f.db', 'is a sqlite:// URL'],
    ];
    for (const [db, message] of refusals) expect(await usageMessage({ db })).toContain(message);
    expect(await usageMessage({}, { WX_DB: 'Postgres:x' })).toMatch(/^The database Postgres:x \(WX_DB\) lacks the \/\//);
  });

  it('plans several profiles into one database, refusing one AppID twice and what would serve every account', async () => {
    const dir = await tempDir();
    const profiles = { shop: { appid: APPID, 'access-token': TOKEN }, news: { appid: 'wx2234567890abcdef', 'access-token': TOKEN } };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles }));
    const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
    const planned = await planSyncAccounts({ progress: true, allProfiles: true, db: join(dir, 'all.db'), accountsConcurrency: '2' }, io);
    expect(planned.concurrency).toBe(2);
    expect(planned.accounts.map(({ profile, sync }) => [profile, sync.appid, sync.database.target, sync.progress])).toEqual([
      ['shop', APPID, join(dir, 'all.db'), false],
      ['news', 'wx2234567890abcdef', join(dir, 'all.db'), false],
    ]);
    await expect(planSyncAccounts({ progress: false, allProfiles: true, appid: APPID }, io)).rejects.toThrow(
      /--appid would serve every account/,
    );
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { ...profiles, again: profiles.shop } }));
    await expect(planSyncAccounts({ progress: false, allProfiles: true, db: join(dir, 'all.db') }, io)).rejects.toThrow(
      /^Profiles shop and again are both AppID wx1234567890abcdef into .*all\.db: one sync an account/,
    );
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('refuses --summary naming the database or a journal of it (exit 2): the summary would replace it', async () => {
    const dir = await tempDir();
    const profiles = {
      shop: { appid: APPID, 'access-token': TOKEN },
      news: { appid: 'wx2234567890abcdef', 'access-token': TOKEN, db: join(dir, 'news.db') },
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles }));
    const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
    const syncing = (summary: string, db?: string) =>
      planSyncAccounts({ progress: false, profiles: 'shop,news', summary, ...(db === undefined ? {} : { db }) }, io);
    await expect(syncing(join(dir, 'all.db'), join(dir, 'all.db'))).rejects.toThrow(
      /^--summary .*all\.db would write over the database .*all\.db \(--db\), destroying it\. Give --summary another file\.$/,
    );
    // A profile's own database (not there yet: compared by path), and its -wal.
    await expect(syncing(join(dir, '.', 'news.db'))).rejects.toThrow(
      /would write over the database .*news\.db \(config key db of profile news\)/,
    );
    await expect(syncing(join(dir, 'news.db-wal'))).rejects.toThrow(/news\.db-wal, a journal SQLite keeps beside the database/);
    expect((await syncing(join(dir, 'summary.ndjson'))).summaryPath).toBe(join(dir, 'summary.ndjson'));
    expect(await readdir(dir)).toEqual(['config.json']);
  });
});
