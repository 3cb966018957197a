/**
 * `wx-followers changes`: its plan in-process (every option and combination), its run in-process
 * on a database written by hand (test/helpers/follower-db.ts), and the command as a subprocess
 * where only a process shows it: a read-only database, a file output, a terminal's chart.
 */
import { chmod, link, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import { FollowerStore } from '../src/out/db/follower-store.js';
import { migrate } from '../src/out/db/migrate.js';
import { openDatabase } from '../src/out/db/open.js';
import { planChanges, type ChangesFlags, type ChangesPlan } from '../src/plan/changes.js';
import { runChanges } from '../src/run/changes.js';
import { netChart } from '../src/out/net-chart.js';
import { BIN, cleanEnv, onLinux, runCli, runProcess, tempDir } from './helpers/cli.js';
import { addRun, at, createFollowerDb, NEWS, SHOP, WEEK_TABLE, writeFixture } from './helpers/follower-db.js';
import { testStreams, usageOf } from './helpers/io.js';

/** 2024-05-07 12:00 UTC: "today" of the plans below. */
const NOW = new Date('2024-05-07T12:00:00Z');
const DAY = 86_400;

let fixture: string;
beforeAll(async () => {
  fixture = join(await tempDir(), 'followers.db');
  await writeFixture(fixture);
});

async function configDir(config?: object): Promise<string> {
  const dir = await tempDir();
  if (config !== undefined) await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

async function plan(flags: ChangesFlags, env: NodeJS.ProcessEnv = {}, config?: object): Promise<ChangesPlan> {
  const dir = await configDir(config);
  return planChanges(flags, testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir, ...env }), NOW);
}

async function usageMessage(flags: ChangesFlags, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return usageOf(plan(flags, env));
}

/** Days since 1970 of a UTC date. */
const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 1000 / DAY;

describe('planChanges', () => {
  it('reads the last 7 days, today included, of the only account, as text to stdout', async () => {
    const planned = await plan({ db: fixture, utc: true });
    expect(planned).toEqual({
      target: { engine: 'sqlite', target: fixture, origin: '--db', password: undefined },
      account: { appid: undefined, origin: 'the database' },
      range: { fromDay: dayNumber('2024-05-01'), toDay: dayNumber('2024-05-07'), utcOffsetSeconds: 0 },
      list: false,
      format: 'text',
      bom: false,
      output: { kind: 'stdout' },
      chart: false,
      quiet: false,
    });
    // Local time: the machine's offset now.
    expect((await plan({ db: fixture })).range.utcOffsetSeconds).toBe(-NOW.getTimezoneOffset() * 60);
  });

  it.each<[ChangesFlags, string, string]>([
    [{ since: '2w' }, '2024-04-24', '2024-05-07'],
    [{ since: '1d' }, '2024-05-07', '2024-05-07'],
    [{ from: '2024-04-01' }, '2024-04-01', '2024-05-07'],
    [{ to: '2024-03-10' }, '2024-03-04', '2024-03-10'],
    [{ from: '2024-02-28', to: '2024-03-01' }, '2024-02-28', '2024-03-01'],
  ])('takes the period %o', async (flags, from, to) => {
    expect((await plan({ db: fixture, utc: true, ...flags })).range).toEqual({
      fromDay: dayNumber(from),
      toDay: dayNumber(to),
      utcOffsetSeconds: 0,
    });
  });

  it('chooses the account by --appid, WX_APPID, then the profile, and the database by --db, WX_DB, then the default', async () => {
    const profiles = { profiles: { news: { appid: NEWS } } };
    expect((await plan({ db: fixture, profile: 'news' }, {}, profiles)).account).toEqual({
      appid: NEWS,
      origin: 'the appid of profile news',
    });
    expect((await plan({ db: fixture, profile: 'news' }, { WX_APPID: SHOP }, profiles)).account.appid).toBe(SHOP);
    expect((await plan({ db: fixture, appid: SHOP }, { WX_APPID: NEWS })).account).toEqual({ appid: SHOP, origin: '--appid' });
    expect((await plan({ profile: 'news' }, {}, { profiles: { news: { appid: NEWS, db: fixture } } })).target).toEqual({
      engine: 'sqlite',
      target: fixture,
      origin: 'config key db of profile news',
      password: undefined,
    });
    expect((await plan({}, { WX_DB: fixture })).target).toEqual({
      engine: 'sqlite',
      target: fixture,
      origin: 'WX_DB',
      password: undefined,
    });
    const url = 'postgres://reader:pw@127.0.0.1:5432/followers';
    expect((await plan({ db: url }, { WX_DB: fixture })).target).toEqual({
      engine: 'postgres',
      target: url,
      origin: '--db',
      password: 'pw',
    });
    expect(await usageMessage({}, {})).toMatch(/There is no database at wx-followers\.db \(the default\): run `wx-followers sync` first/);
  });

  it('plans a file output as export does, and csv or ndjson, --list and --bom', async () => {
    const dir = await tempDir();
    const planned = await plan({ db: fixture, output: join(dir, 'days.csv'), format: 'csv', bom: true, list: true });
    expect(planned).toMatchObject({
      output: { kind: 'file', path: join(dir, 'days.csv'), partialPath: join(dir, 'days.csv.partial') },
      format: 'csv',
      bom: true,
      list: true,
    });
    // The plan created nothing.
    expect(await readdir(dir)).toEqual([]);
  });

  it('draws the chart only for the daily text table on a terminal', async () => {
    const dir = await configDir();
    const terminal = { ...testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir }), stdoutIsTTY: true };
    expect((await planChanges({ db: fixture }, terminal, NOW)).chart).toBe(true);
    expect((await planChanges({ db: fixture, list: true }, terminal, NOW)).chart).toBe(false);
    expect((await planChanges({ db: fixture, format: 'csv' }, terminal, NOW)).chart).toBe(false);
    expect((await planChanges({ db: fixture, output: join(await tempDir(), 'x.txt') }, terminal, NOW)).chart).toBe(false);
  });

  it.each<[ChangesFlags, RegExp]>([
    [{ since: '7d', from: '2024-05-01' }, /--since and --from\/--to do not go together/],
    [{ since: '7' }, /--since takes a number of days or weeks, such as 7d or 2w; got '7'/],
    [{ since: '0d' }, /--since takes a number of days or weeks/],
    [{ since: '3m' }, /--since takes a number of days or weeks/],
    [{ from: '2024-02-30' }, /--from takes a day as YYYY-MM-DD/],
    [{ to: '24-05-01' }, /--to takes a day as YYYY-MM-DD/],
    [{ from: '1969-12-31' }, /--from takes a day as YYYY-MM-DD \(1970 or later\)/],
    [{ from: '2024-05-03', to: '2024-05-02' }, /--from 2024-05-03 is after --to 2024-05-02/],
    [{ from: '1970-01-01', to: '9999-01-01' }, /The period is longer than 36600 days/],
    [{ since: '100000d' }, /^--since is at most 36600 days \(5228w\); got '100000d'\.$/],
    [{ since: '99999w' }, /^--since is at most 36600 days \(5228w\); got '99999w'\.$/],
    [
      { since: '3000w' },
      /^--since 3000w would start the period on 1966-11-09, before 1970: give at most --since 19851d \(from 1970-01-01\), or --from\.$/,
    ],
    [
      { to: '1970-01-01' },
      /^--to 1970-01-01 alone is the 7 days up to it, from 1969-12-26, before 1970: give --from too \(1970-01-01 or later\)\.$/,
    ],
    [
      { from: '2099-01-01' },
      /^--from 2099-01-01 is after today \(2024-05-07; the period ends today without --to\): the period would have no day\.$/,
    ],
    [{ format: 'xml' }, /--format must be one of text, csv, ndjson/],
    [{ bom: true }, /--bom goes with --format csv/],
    [{ appid: 'shop' }, /The AppID from --appid does not look like one/],
    [{ profile: 'nope' }, /No profile named 'nope'/],
    [{ db: '' }, /--db is empty: give a file path \(SQLite\) or a postgres:\/\/ URL/],
    [{ db: '-' }, /^The database - \(--db\): a database cannot be read from stdin/],
    [{ db: 'postgresql:followers' }, /lacks the \/\/ of a PostgreSQL URL: write it as postgres:\/\/user@host\/db\.$/],
    [{ db: 'mysql://db.example/followers' }, /is a mysql:\/\/ URL, which this tool does not take: give a SQLite file path/],
    [{ db: 'postgres://reader@db.example/followers?sslmode=disable' }, /The database URL from --db/],
  ])('refuses %o', async (flags, message) => {
    expect(await usageMessage({ db: fixture, ...flags })).toMatch(message);
  });

  it('refuses a database that is not there or is a folder, naming sync', async () => {
    const dir = await tempDir();
    // Names SQLite would read as its own (a URI, a memory database), and a file with two names.
    expect(await usageMessage({ db: `file:${fixture}` })).toMatch(
      /would be read by SQLite as a URI, not as a file: give a plain file path/,
    );
    expect(await usageMessage({ db: ':memory:' })).toMatch(
      /^The database :memory: \(--db\) would be read by SQLite as a database in memory/,
    );
    const copy = join(dir, 'copy.db');
    await writeFixture(copy);
    await link(copy, join(dir, 'again.db'));
    expect(await usageMessage({ db: join(dir, 'again.db') })).toMatch(/again\.db \(--db\) has 1 other name \(hard links\)/);
    expect(await usageMessage({ db: join(dir, 'none.db') })).toMatch(
      /There is no database at .*none\.db \(--db\): run `wx-followers sync` first/,
    );
    expect(await usageMessage({}, { WX_DB: dir })).toMatch(/The database .* \(WX_DB\) is not a file/);
  });
});

/** The run in-process on the fixture: stdout and stderr, and the exit code. */
async function changes(flags: ChangesFlags, offset?: number): Promise<{ code: ExitCode; out: string; err: string }> {
  const dir = await configDir();
  const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
  const planned = await planChanges({ db: fixture, utc: true, ...flags }, io, NOW);
  const code = await runChanges(offset === undefined ? planned : { ...planned, range: { ...planned.range, utcOffsetSeconds: offset } }, io);
  return { code, out: io.out(), err: io.err() };
}

describe('changes beside the database', () => {
  it('creates nothing beside it (no -wal, -shm) when no sync has it open, and reads through the -wal of one that has', async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.db');
    await writeFixture(path);
    const alone = await changes({ db: path, appid: SHOP, from: '2024-05-01', to: '2024-05-07' });
    expect([alone.code, alone.out]).toEqual([ExitCode.Ok, WEEK_TABLE]);
    expect(await readdir(dir)).toEqual(['f.db']);
    // A sync holding it open, a page committed into its -wal and not yet into the file.
    const writer = await openDatabase(path, { readOnly: false });
    try {
      await writer.query("INSERT INTO wx_changes (run_id, appid, openid, kind, at) VALUES (4, ?, 'o8', 'joined', ?)", [
        SHOP,
        at('2024-05-07T08:00'),
      ]);
      expect((await readdir(dir)).sort()).toEqual(['f.db', 'f.db-shm', 'f.db-wal']);
      const beside = await changes({ db: path, appid: SHOP, from: '2024-05-01', to: '2024-05-07' });
      expect(beside.out).toContain('\n2024-05-07       1     0   +1\n');
      expect((await readdir(dir)).sort()).toEqual(['f.db', 'f.db-shm', 'f.db-wal']);
    } finally {
      await writer.close();
    }
    expect(await readdir(dir)).toEqual(['f.db']);
  });
});

describe('changes -o over the database', () => {
  it('refuses (exit 2, before anything is written) -o naming the database, a journal of it, or a file whose .partial is it', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await symlink(dir, join(dir, 'same'));
    const path = join(dir, 'a.db');
    await writeFixture(path);
    const before = await readFile(path);
    const refusals: [string, string, RegExp][] = [
      [path, path, /^-o .*a\.db would write over the database .*a\.db \(--db\), destroying it\. Give -o another file\.$/],
      [path, join(dir, 'sub', '..', 'a.db'), /would write over the database/],
      [path, join(dir, 'same', 'a.db'), /would write over the database/],
      [path, `${path}-wal`, /^-o .*a\.db-wal would write over .*a\.db-wal, a journal SQLite keeps beside the database .*a\.db \(--db\)/],
      [path, join(dir, 'same', 'a.db-shm'), /a\.db-shm, a journal SQLite keeps beside the database/],
      [path, `${path}-journal`, /a\.db-journal, a journal/],
    ];
    const partial = join(dir, 'x.partial');
    await writeFixture(partial);
    refusals.push([partial, join(dir, 'x'), /^-o .*x \(through .*x\.partial\) would write over the database .*x\.partial \(--db\)/]);
    for (const [db, output, message] of refusals) expect(await usageMessage({ db, output })).toMatch(message);
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['a.db', 'same', 'sub', 'x.partial']);
    // Another file beside it is fine.
    expect((await plan({ db: path, output: join(dir, 'a.db.txt') })).output).toMatchObject({ kind: 'file' });
  });
});

describe('runChanges', () => {
  it('counts joined and left per day of one account, every day of the period, with the totals, and says what they leave out', async () => {
    const result = await changes({ appid: SHOP });
    expect(result).toMatchObject({ code: ExitCode.Ok, out: WEEK_TABLE });
    expect(result.err).toBe(
      `wx-followers: the baseline of ${SHOP} (its first complete walk, 2024-05-01 10:00 UTC to 2024-05-01 10:05 UTC) falls in this period: its 3 followers were recorded then, not counted as joined.\n` +
        `wx-followers: the last sync of ${SHOP} did not complete (its walk started 2024-05-06 10:00 UTC): who left is known up to 2024-05-05 00:20 UTC. Run \`wx-followers sync\` to finish the walk.\n`,
    );
  });

  it('reads days in the offset given: past midnight UTC is the morning in Beijing', async () => {
    const result = await changes({ appid: SHOP, from: '2024-05-04', to: '2024-05-05' }, 8 * 3600);
    expect(result.out).toBe(
      'date        joined  left  net\n2024-05-04       0     0    0\n2024-05-05       2     1   +1\ntotal            2     1   +1\n',
    );
    // Neither the baseline nor the walk under way is in these days.
    expect(result.err).toBe('');
  });

  it('writes csv and ndjson a record a day, nothing else', async () => {
    const csv = await changes({ appid: SHOP, format: 'csv', bom: true, from: '2024-05-01', to: '2024-05-03', quiet: true });
    expect(csv).toEqual({
      code: ExitCode.Ok,
      out: '\uFEFFdate,joined,left,net\n2024-05-01,0,0,0\n2024-05-02,1,1,0\n2024-05-03,0,0,0\n',
      err: '',
    });
    const ndjson = await changes({ appid: SHOP, format: 'ndjson', from: '2024-05-04', to: '2024-05-05', quiet: true });
    expect(ndjson.out).toBe('{"date":"2024-05-04","joined":1,"left":0,"net":1}\n{"date":"2024-05-05","joined":1,"left":1,"net":0}\n');
  });

  it('lists the changes themselves in time order, in each format, in the offset given', async () => {
    const text = await changes({ appid: SHOP, list: true, from: '2024-05-02', to: '2024-05-05', quiet: true }, 8 * 3600);
    expect(text.out).toBe(
      [
        '2024-05-02T18:01:00+08:00\tjoined\to4',
        '2024-05-02T18:02:00+08:00\tleft\to1',
        '2024-05-05T07:31:00+08:00\tjoined\to5',
        '2024-05-05T08:10:00+08:00\tjoined\to6',
        '2024-05-05T08:20:00+08:00\tleft\to2',
        '',
      ].join('\n'),
    );
    const csv = await changes({ appid: SHOP, list: true, format: 'csv', from: '2024-05-06', to: '2024-05-06', quiet: true });
    expect(csv.out).toBe('at,kind,openid\n2024-05-06T10:01:00Z,joined,o7\n');
    const ndjson = await changes({ appid: NEWS, list: true, format: 'ndjson' });
    expect(ndjson).toEqual({
      code: ExitCode.Ok,
      out: '{"at":"2024-05-03T09:00:00Z","kind":"joined","openid":"n1"}\n',
      err: expect.any(String),
    });
    const none = await changes({ appid: SHOP, list: true, format: 'csv', from: '2024-05-07', to: '2024-05-07' });
    expect(none.out).toBe('at,kind,openid\n');
  });

  it('refuses an account it cannot choose, listing those there are', async () => {
    const several = await changes({});
    expect(several).toMatchObject({ code: ExitCode.Usage, out: '' });
    expect(several.err).toMatch(new RegExp(`holds 2 accounts: ${SHOP}, ${NEWS}\\. Choose one with --appid or --profile\\.`));
    const unknown = await changes({ appid: 'wxcccccccccccccccc' });
    expect(unknown).toMatchObject({ code: ExitCode.Usage, out: '' });
    expect(unknown.err).toMatch(new RegExp(`has no sync of wxcccccccccccccccc \\(--appid\\)\\. Its accounts are: ${SHOP}, ${NEWS}\\.`));
  });

  it('says when no sync of the account has completed: the baseline is under way', async () => {
    const path = join(await tempDir(), 'baseline.db');
    const db = await createFollowerDb(path);
    await addRun(db, { appid: SHOP, startedAt: at('2024-05-06T10:00'), endedAt: at('2024-05-06T10:01'), followers: 200 });
    await db.close();
    const result = await changes({ db: path });
    expect(result.code).toBe(ExitCode.Ok);
    expect(result.err).toBe(
      `wx-followers: ${SHOP} has no complete sync yet: its first walk (started 2024-05-06 10:00 UTC) is its baseline, whose followers are recorded and not counted as joined, and nobody is counted as left until a sync reaches the end of the list. Run \`wx-followers sync\` to finish it.\n`,
    );
  });

  it('refuses a database of a newer schema, a file that is not one of its databases, and one with no account', async () => {
    const dir = await tempDir();
    const newer = await createFollowerDb(join(dir, 'newer.db'));
    await newer.query('UPDATE wx_schema SET version = 2');
    await newer.close();
    const result = await changes({ db: join(dir, 'newer.db') });
    expect(result).toMatchObject({ code: ExitCode.Usage, out: '' });
    expect(result.err).toMatch(/newer\.db holds schema version 2, newer than version 1, the newest this wx-followers knows/);
    await writeFile(join(dir, 'notes.txt'), 'not a database at all, just text long enough to be read as a header\n'.repeat(10));
    const text = await changes({ db: join(dir, 'notes.txt') });
    expect(text).toMatchObject({ code: ExitCode.Usage, out: '' });
    expect(text.err).toMatch(/notes\.txt is not a SQLite database \(file is not a database\)/);
    await writeFile(join(dir, 'empty.db'), '');
    expect((await changes({ db: join(dir, 'empty.db') })).err).toMatch(
      /empty\.db is not a database of wx-followers \(it has no wx_schema table\)/,
    );
    await (await createFollowerDb(join(dir, 'fresh.db'))).close();
    expect((await changes({ db: join(dir, 'fresh.db') })).err).toMatch(/fresh\.db holds no account yet: run `wx-followers sync` first/);
  });
});

describe('wx-followers changes', () => {
  it('reads a read-only database in a read-only folder, and writes -o through FILE.partial', async () => {
    const dir = await tempDir();
    const folder = join(dir, 'readonly');
    await mkdir(folder);
    const path = join(folder, 'followers.db');
    await writeFixture(path);
    await chmod(path, 0o444);
    await chmod(folder, 0o555);
    const out = join(dir, 'out');
    await mkdir(out);
    await chmod(dir, 0o777);
    await chmod(out, 0o777);
    const env = cleanEnv(await tempDir(), { TZ: 'UTC' });
    const result = await runCli(
      ['changes', '--db', path, '--appid', SHOP, '--from', '2024-05-01', '--to', '2024-05-07', '-o', join(out, 'week.txt')],
      {
        env,
        unprivileged: true,
      },
    );
    expect(result.stderr).toMatch(/the baseline of/);
    expect(result.code).toBe(ExitCode.Ok);
    expect(result.stdout.toString()).toBe('');
    expect(await readFile(join(out, 'week.txt'), 'utf8')).toBe(WEEK_TABLE);
    expect(await readdir(out)).toEqual(['week.txt']);
    // Nothing was written beside the database.
    expect(await readdir(folder)).toEqual(['followers.db']);
    await chmod(folder, 0o755);
  });

  it('reads what the follower store wrote: a baseline, then a join and a leave, then a return as a new join', async () => {
    const path = join(await tempDir(), 'store.db');
    const db = await openDatabase(path, { readOnly: false });
    await migrate(db);
    const store = new FollowerStore(db, SHOP);
    const walk = async (openids: string[], now: number): Promise<void> => {
      const run = await store.beginRun({ restart: false, now });
      await store.savePage(run, { openids, cursor: openids.at(-1) ?? '', total: openids.length }, now);
      await store.finishWalk(run, now);
    };
    await walk(['oA', 'oB', 'oC'], at('2024-05-01T10:00'));
    await walk(['oA', 'oC', 'oD'], at('2024-05-02T10:00'));
    await walk(['oA', 'oB', 'oC', 'oD'], at('2024-05-03T10:00'));
    await db.close();
    const env = cleanEnv(await tempDir(), { TZ: 'UTC' });
    const days = await runCli(['changes', '--db', path, '--from', '2024-05-01', '--to', '2024-05-03', '-f', 'csv'], { env });
    expect(days.stdout.toString()).toBe('date,joined,left,net\n2024-05-01,0,0,0\n2024-05-02,1,1,0\n2024-05-03,1,0,1\n');
    expect(days.stderr).toMatch(/the baseline of wxaaaaaaaaaaaaaaaa .* falls in this period: its 3 followers were recorded then/);
    const list = await runCli(['changes', '--db', path, '--list', '--from', '2024-05-02', '--to', '2024-05-03', '-q'], { env });
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout.toString()).toBe(
      '2024-05-02T10:00:00Z\tjoined\toD\n2024-05-02T10:00:00Z\tleft\toB\n2024-05-03T10:00:00Z\tjoined\toB\n',
    );
  });

  // A terminal made by util-linux's `script -qec`: macOS's takes other flags, Windows has none.
  it.runIf(onLinux)('draws the net change a day under the table on a terminal, local days by TZ', async () => {
    const command = `"${process.execPath}" "${BIN}" changes --db "${fixture}" --appid ${SHOP} --from 2024-05-04 --to 2024-05-06`;
    const result = await runProcess('script', ['-qec', command, '/dev/null'], { env: cleanEnv(await tempDir(), { TZ: 'Asia/Shanghai' }) });
    expect(result.code).toBe(0);
    const screen = result.stdout.toString().replace(/\r\n/g, '\n');
    expect(screen).toContain('2024-05-05       2     1   +1\n');
    expect(screen).toContain('Net change a day (joined - left):\n');
    // Gains only: the bars take both halves.
    expect(screen).toContain(`05-05  │${'█'.repeat(40)}  +1\n`);
    expect(screen).toContain(`05-04  │${' '.repeat(40)}  0\n`);
  });
});

describe('netChart', () => {
  const day = (date: string, joined: number, left: number) => ({ date, joined, left });

  it('draws losses left of the axis and gains right of it, to one scale, a day with a change never empty', () => {
    const chart = netChart([day('2024-05-01', 401, 1), day('2024-05-02', 0, 200), day('2024-05-03', 0, 0), day('2024-05-04', 100, 99)]);
    expect(chart).toBe(
      [
        '',
        'Net change a day (joined - left):',
        `05-01  ${' '.repeat(20)}│${'█'.repeat(20)}  +400`,
        `05-02  ${' '.repeat(10)}${'█'.repeat(10)}│${' '.repeat(20)}  -200`,
        `05-03  ${' '.repeat(20)}│${' '.repeat(20)}  0`,
        `05-04  ${' '.repeat(20)}│▏${' '.repeat(19)}  +1`,
        '',
      ].join('\n'),
    );
  });

  it('draws a long period a few days a bar, labelled with the first, and says when nothing changed', () => {
    const days = Array.from({ length: 100 }, (_, index) =>
      day(
        `2023-${String(1 + Math.floor(index / 28)).padStart(2, '0')}-${String(1 + (index % 28)).padStart(2, '0')}`,
        index === 99 ? 0 : 1,
        index === 99 ? 1 : 0,
      ),
    );
    const lines = netChart(days).split('\n');
    expect(lines[1]).toBe('Net change per 2 days (joined - left), from the day shown:');
    expect(lines).toHaveLength(2 + 50 + 1);
    expect(lines[2]).toBe(`01-01  │${'█'.repeat(40)}  +2`);
    expect(lines[51]).toBe(`04-15  │${' '.repeat(40)}  0`);
    expect(netChart([day('2024-01-01', 0, 0)])).toBe('\nNet change a day (joined - left): no change.\n');
  });
});
