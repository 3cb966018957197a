/**
 * sync --authorized's plan, in-process: the option combinations, the platform, each account's
 * token source and the one database, checked before any call; nothing is created or requested.
 */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountLockPath } from '../src/out/db/open.js';
import { planSyncAuthorized, planSyncAuthorizedAccounts } from '../src/plan/sync-authorized.js';
import type { SyncFlags } from '../src/plan/sync.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const PLATFORM_ENV = { WX_COMPONENT_APPID: 'wxc0c0c0c0c0c0c0c0', WX_COMPONENT_TOKEN_URL: 'https://platform.example/component-token' };
const SHOP = 'wx1111111111111111';
const NEWS = 'wx2222222222222222';

async function streams(env: NodeJS.ProcessEnv, config?: object) {
  const configDir = await tempDir();
  if (config !== undefined) await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  return { configDir, io: testStreams({ WX_FOLLOWERS_CONFIG_DIR: configDir, HOME: configDir, ...env }) };
}

async function plan(flags: Partial<SyncFlags>, env: NodeJS.ProcessEnv = PLATFORM_ENV, config?: object) {
  const { configDir, io } = await streams(env, config);
  const planned = await planSyncAuthorized({ progress: true, authorized: true, ...flags }, io);
  expect((await readdir(configDir)).filter((name) => name !== 'config.json')).toEqual([]);
  return planned;
}

async function usageMessage(flags: Partial<SyncFlags>, env: NodeJS.ProcessEnv = PLATFORM_ENV): Promise<string> {
  return usageOf(plan(flags, env));
}

describe('planSyncAuthorized', () => {
  it('refuses a --summary that would write over the database or its journal (exit 2)', async () => {
    const db = join(await tempDir(), 'agency.db');
    expect(await usageMessage({ db, summary: db })).toMatch(/^--summary .* would write over the database .*destroying it/);
    expect(await usageMessage({ db, summary: `${db}-wal` })).toMatch(/a journal SQLite keeps beside the database/);
  });

  it('plans the platform, the accounts, their token source, how each is synced and the one database; nothing created', async () => {
    const dir = await tempDir();
    const planned = await plan({ db: join(dir, 'agency.db'), accountsConcurrency: '3', limit: '500', withInfo: true, summary: 's.ndjson' });
    expect(planned.selection).toMatchObject({
      appids: undefined,
      tokens: { kind: 'refresh' },
      concurrency: 3,
      summaryPath: 's.ndjson',
      progress: true,
    });
    expect(planned.selection.platform.component.appid.value).toBe('wxc0c0c0c0c0c0c0c0');
    // Each account's own progress stays off: the run's display says which account is under way.
    expect(planned.settings).toMatchObject({ restart: false, limit: 500, maxCalls: undefined, progress: false });
    expect(planned.settings.details).toMatchObject({ lang: 'zh_CN', concurrency: 8 });
    expect(planned.database).toMatchObject({ engine: 'sqlite', target: join(dir, 'agency.db'), origin: '--db' });
    expect((await plan({}, { ...PLATFORM_ENV, WX_DB: join(dir, 'env.db') })).database.origin).toBe('WX_DB');
    expect((await plan({})).database).toMatchObject({ target: 'wx-followers.db', origin: 'the default' });
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes the platform profile's component token, authorizer token URL and db", async () => {
    const dir = await tempDir();
    const agency = {
      'component-appid': 'wxc0c0c0c0c0c0c0c0',
      'component-token-command': 'platform-token',
      'authorizer-token-url': 'https://platform.example/t/{appid}',
      db: join(dir, 'agency.db'),
    };
    const planned = await plan({ profile: 'agency', authorized: `${SHOP},${NEWS}` }, {}, { profiles: { agency } });
    expect(planned.selection).toMatchObject({
      appids: [SHOP, NEWS],
      tokens: { kind: 'url', from: 'config key authorizer-token-url of profile agency' },
    });
    expect(planned.database).toMatchObject({ target: join(dir, 'agency.db'), origin: 'config key db of profile agency' });
  });

  it.each([
    [{ profiles: 'shop' }, {}, /^--authorized and --profiles do not go together/],
    [{ allProfiles: true }, {}, /^--authorized and --all-profiles do not go together/],
    [{ appid: SHOP }, {}, /^--authorized and --appid do not go together/],
    [{ accessToken: 'SOME_TOKEN_0123456789' }, {}, /^--authorized and --access-token/],
    [{ tokenCommand: 'tokens' }, {}, /^--authorized and --token-command/],
    [{}, { WX_APPID: SHOP }, /^WX_APPID is set, and would serve every account/],
    [{ authorized: 'shop' }, {}, /The AppID from --authorized does not look like one/],
    [{ accountsConcurrency: '9' }, {}, /--accounts-concurrency is too large/],
    [{ lang: 'en' }, {}, /^--lang goes with --with-info\.$/],
    [{ limit: '0' }, {}, /--limit/],
    [
      { authorizerTokenCommand: 'a', authorizerTokenUrl: 'https://b.example/{appid}' },
      {},
      /--authorizer-token-command and --authorizer-token-url were given together/,
    ],
    [{ db: '' }, {}, /^--db is empty/],
  ] as const)('refuses %j (env %j) with exit 2', async (flags, env, message) => {
    expect(await usageMessage(flags as Partial<SyncFlags>, { ...PLATFORM_ENV, ...env })).toMatch(message);
  });

  it("needs the platform's component token source", async () => {
    expect(await usageMessage({}, {})).toMatch(/^`sync --authorized` needs the third-party platform's component token/);
  });

  it("checks the database's folder, and the locks of the AppIDs it knows, before any call", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'folder.db'));
    expect(await usageMessage({ db: join(dir, 'folder.db') })).toMatch(/is a folder: give a file in it/);
    await symlink(join(dir, 'elsewhere'), accountLockPath(join(dir, 'agency.db'), NEWS));
    expect(await usageMessage({ db: join(dir, 'agency.db'), authorized: `${SHOP},${NEWS}` })).toMatch(
      new RegExp(`agency\\.db-${NEWS}\\.lock, beside the database .*agency\\.db, is a symbolic link`),
    );
  });
});

describe('planSyncAuthorizedAccounts', () => {
  it("plans each listed account's sync into the one database with its own token source, the lock of each checked", async () => {
    const dir = await tempDir();
    const db = join(dir, 'agency.db');
    const { io } = await streams({ ...PLATFORM_ENV, WX_AUTHORIZER_TOKEN_COMMAND: 'tokens {appid}' });
    const planned = await planSyncAuthorized({ progress: false, authorized: true, db, summary: 's.ndjson' }, io);
    const accounts = [SHOP, NEWS].map((appid) => ({ appid, name: undefined, tokens: undefined }));
    const synced = await planSyncAuthorizedAccounts(planned, accounts, io);
    expect(synced).toMatchObject({ concurrency: 1, summaryPath: 's.ndjson', platformsLeftOut: [] });
    expect(
      synced.accounts.map(({ profile, sync }) => [profile, sync.appid, sync.database.target, sync.connection.credentials.service]),
    ).toEqual([
      [undefined, SHOP, db, expect.objectContaining({ kind: 'command', command: 'tokens "$WX_APPID"', appid: SHOP })],
      [undefined, NEWS, db, expect.objectContaining({ kind: 'command', command: 'tokens "$WX_APPID"', appid: NEWS })],
    ]);
    expect(await (synced.accounts[1]?.sync.connection.credentials.account() ?? Promise.resolve(undefined))).toEqual({ appid: NEWS });
    // The list named an account whose lock beside the database is a link: exit 2 before any sync.
    await symlink(join(dir, 'elsewhere'), accountLockPath(db, NEWS));
    await expect(planSyncAuthorizedAccounts(planned, accounts, io)).rejects.toThrow(
      /-wx2222222222222222\.lock, beside the database .* is a symbolic link/,
    );
    expect(await readdir(dir)).toEqual([`agency.db-${NEWS}.lock`]);
  });
});
