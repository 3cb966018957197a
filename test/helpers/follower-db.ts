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

export interface ChangeRowSpec {
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
  await db.transaction(async (inside) => {
    for (const statement of schemaV1('sqlite')) await inside.query(statement);
  });
  return db;
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

export async function addChanges(db: Database, changes: readonly ChangeRowSpec[]): Promise<void> {
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
