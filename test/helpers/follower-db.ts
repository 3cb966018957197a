/**
 * A follower database written by hand for the readers' tests: schema version 1 through its own
 * DDL (src/out/db/schema.ts), then runs and changes in plain SQL, as a sync would leave them.
 */
import type { Database } from '../../src/out/db/database.js';
import { schemaV1 } from '../../src/out/db/schema.js';
import { openSqlite } from '../../src/out/db/sqlite.js';

/** Unix seconds of a UTC date and time: `at('2024-05-01T10:00')`. */
export function at(isoUtc: string): number {
  return Date.parse(`${isoUtc}Z`) / 1000;
}

export interface RunRow {
  appid: string;
  walkId?: number;
  startedAt: number;
  endedAt?: number | null;
  complete?: boolean;
  followers?: number;
  cursor?: string | null;
}

interface ChangeRowSpec {
  runId: number;
  appid: string;
  openid: string;
  kind: 'joined' | 'left';
  at: number;
}

/** Creates the file with schema version 1; gives the database open for writing. */
export async function createFollowerDb(path: string): Promise<Database> {
  const db = await openSqlite(path, {
    readOnly: false,
    lockAccount: async () => async () => undefined,
  });
  await writeSchema(db);
  return db;
}

/** Schema version 1 in an empty database of either engine, through its own DDL. */
export async function writeSchema(db: Database): Promise<void> {
  await db.transaction(async (inside) => {
    for (const statement of schemaV1(db.engine)) await inside.query(statement);
  });
}

/** Adds a run; gives its id. A run that starts a walk is its own walk when walkId is left out. */
export async function addRun(db: Database, run: RunRow): Promise<number> {
  const [row] = await db.query(
    `INSERT INTO wx_runs (appid, walk_id, started_at, ended_at, complete, followers, cursor)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [run.appid, run.walkId ?? 0, run.startedAt, run.endedAt ?? null, run.complete === true ? 1 : 0, run.followers ?? 0, run.cursor ?? null],
  );
  const id = Number(row?.['id']);
  if (run.walkId === undefined) await db.query('UPDATE wx_runs SET walk_id = ? WHERE id = ?', [id, id]);
  return id;
}

async function addChanges(db: Database, changes: readonly ChangeRowSpec[]): Promise<void> {
  await db.transaction(async (inside) => {
    for (const change of changes) {
      await inside.query('INSERT INTO wx_changes (run_id, appid, openid, kind, at) VALUES (?, ?, ?, ?, ?)', [
        change.runId,
        change.appid,
        change.openid,
        change.kind,
        change.at,
      ]);
    }
  });
}

export const SHOP = 'wxaaaaaaaaaaaaaaaa';
export const NEWS = 'wxbbbbbbbbbbbbbbbb';

/**
 * SHOP: a baseline on 05-01, complete syncs on 05-02 and 05-04 (that one ending past midnight),
 * and one that did not complete, from 05-06. NEWS: one complete sync with a join on 05-03.
 */
export async function writeFixture(path: string): Promise<void> {
  await writeHistory(await createFollowerDb(path));
}

/** The fixture's runs and changes, into a database of schema version 1 (of either engine); closes it. */
export async function writeHistory(db: Database): Promise<void> {
  await addRun(db, { appid: SHOP, startedAt: at('2024-05-01T10:00'), endedAt: at('2024-05-01T10:05'), complete: true, followers: 3 });
  const second = await addRun(db, { appid: SHOP, startedAt: at('2024-05-02T10:00'), endedAt: at('2024-05-02T10:02'), complete: true });
  const third = await addRun(db, { appid: SHOP, startedAt: at('2024-05-04T23:30'), endedAt: at('2024-05-05T00:20'), complete: true });
  const fourth = await addRun(db, { appid: SHOP, startedAt: at('2024-05-06T10:00'), endedAt: null, cursor: 'o7' });
  const news = await addRun(db, { appid: NEWS, startedAt: at('2024-05-03T09:00'), endedAt: at('2024-05-03T09:01'), complete: true });
  await addChanges(db, [
    { runId: second, appid: SHOP, openid: 'o4', kind: 'joined', at: at('2024-05-02T10:01') },
    { runId: second, appid: SHOP, openid: 'o1', kind: 'left', at: at('2024-05-02T10:02') },
    { runId: third, appid: SHOP, openid: 'o5', kind: 'joined', at: at('2024-05-04T23:31') },
    { runId: third, appid: SHOP, openid: 'o6', kind: 'joined', at: at('2024-05-05T00:10') },
    { runId: third, appid: SHOP, openid: 'o2', kind: 'left', at: at('2024-05-05T00:20') },
    { runId: fourth, appid: SHOP, openid: 'o7', kind: 'joined', at: at('2024-05-06T10:01') },
    { runId: news, appid: NEWS, openid: 'n1', kind: 'joined', at: at('2024-05-03T09:00') },
  ]);
  await db.close();
}

/** The fixture's SHOP, 2024-05-01 to 2024-05-07 in UTC, as `changes` writes it in text. */
export const WEEK_TABLE = `date        joined  left  net
2024-05-01       0     0    0
2024-05-02       1     1    0
2024-05-03       0     0    0
2024-05-04       1     0   +1
2024-05-05       1     1    0
2024-05-06       1     0   +1
2024-05-07       0     0    0
total            4     2   +2
`;
