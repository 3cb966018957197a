/**
 * What `changes` reads of the follower database: written once against `Database`, in SQL both
 * engines speak, and only reads. A day is `(at + offset) / 86400` in integer arithmetic; the
 * offset is cast, since node:sqlite binds every JavaScript number as a REAL (and the division
 * would then be a fraction).
 */
import type { Database, SqlRow, SqlValue } from './database.js';

const SECONDS_A_DAY = 86_400;

/** The days asked for, as whole days since 1970-01-01 in the offset's time. */
export interface DayRange {
  /** The first day, included. */
  fromDay: number;
  /** The last day, included. */
  toDay: number;
  /** Seconds added to a time to read its day: the local time's offset, or 0 for UTC. */
  utcOffsetSeconds: number;
}

/** The unix seconds at which the range starts (included) and ends (excluded). */
export function secondsOf(range: DayRange): { fromAt: number; toAt: number } {
  return {
    fromAt: range.fromDay * SECONDS_A_DAY - range.utcOffsetSeconds,
    toAt: (range.toDay + 1) * SECONDS_A_DAY - range.utcOffsetSeconds,
  };
}

/** The day of a time, as the queries count it. */
export function dayOf(at: number, utcOffsetSeconds: number): number {
  return Math.floor((at + utcOffsetSeconds) / SECONDS_A_DAY);
}

/** The AppIDs the database has runs of, sorted. */
export async function accountsOf(db: Database): Promise<string[]> {
  const rows = await db.query('SELECT DISTINCT appid FROM wx_runs ORDER BY appid');
  return rows.map((row) => String(row['appid']));
}

/** Joined and left on one day; only days with a change come back. */
export interface DayCount {
  day: number;
  joined: number;
  left: number;
}

/** Joined and left per day of the range, for the days that have any, in order. */
export async function dailyCounts(db: Database, appid: string, range: DayRange): Promise<DayCount[]> {
  const { fromAt, toAt } = secondsOf(range);
  const rows = await db.query(
    `SELECT (at + CAST(? AS BIGINT)) / ${SECONDS_A_DAY} AS day, kind, COUNT(*) AS changes
       FROM wx_changes
      WHERE appid = ? AND at >= ? AND at < ?
      GROUP BY day, kind
      ORDER BY day`,
    [range.utcOffsetSeconds, appid, fromAt, toAt],
  );
  const days = new Map<number, DayCount>();
  for (const row of rows) {
    // PostgreSQL's client gives BIGINTs (a COUNT, a day) as strings.
    const day = Number(row['day']);
    const count = days.get(day) ?? { day, joined: 0, left: 0 };
    if (row['kind'] === 'joined') count.joined += Number(row['changes']);
    else if (row['kind'] === 'left') count.left += Number(row['changes']);
    days.set(day, count);
  }
  return [...days.values()].sort((a, b) => a.day - b.day);
}

/** One row of wx_changes, as --list writes it. */
export interface ChangeRow {
  at: number;
  kind: string;
  openid: string;
}

/**
 * The changes of the range in time order, a few rows at a time (memory stays flat for a million):
 * ties are in a fixed order, so that two runs give the same bytes.
 */
export async function* changeRows(db: Database, appid: string, range: DayRange): AsyncIterable<ChangeRow> {
  const { fromAt, toAt } = secondsOf(range);
  const params: SqlValue[] = [appid, fromAt, toAt];
  const sql = 'SELECT at, kind, openid FROM wx_changes WHERE appid = ? AND at >= ? AND at < ? ORDER BY at, kind, openid';
  for await (const row of db.rows(sql, params)) {
    yield { at: Number(row['at']), kind: String(row['kind']), openid: String(row['openid']) };
  }
}

/** What the runs tell about how far the database's picture of an account goes. */
export interface WalkFacts {
  /** When the account's first run started. */
  firstStartedAt: number;
  /**
   * The baseline: the walk that ended in the account's first complete run (its followers
   * recorded, not counted as joined). Undefined while no run has completed.
   */
  baseline: { startedAt: number; endedAt: number; followers: number } | undefined;
  /** When the last complete run ended: who left is known up to then. */
  lastCompleteEndedAt: number | undefined;
  /** The walk under way, when the account's last run did not complete. */
  incomplete: { startedAt: number } | undefined;
}

/** Undefined when the account has no runs. */
export async function walkFactsOf(db: Database, appid: string): Promise<WalkFacts | undefined> {
  const first = await oneRow(db, 'SELECT MIN(started_at) AS started_at FROM wx_runs WHERE appid = ?', [appid]);
  if (first?.['started_at'] === null || first?.['started_at'] === undefined) return undefined;
  const firstComplete = await oneRow(db, 'SELECT walk_id, ended_at FROM wx_runs WHERE appid = ? AND complete = 1 ORDER BY id LIMIT 1', [
    appid,
  ]);
  const lastComplete = await oneRow(db, 'SELECT ended_at FROM wx_runs WHERE appid = ? AND complete = 1 ORDER BY id DESC LIMIT 1', [appid]);
  const last = await oneRow(db, 'SELECT walk_id, complete FROM wx_runs WHERE appid = ? ORDER BY id DESC LIMIT 1', [appid]);
  return {
    firstStartedAt: Number(first['started_at']),
    baseline: firstComplete === undefined ? undefined : await walkOf(db, appid, firstComplete),
    lastCompleteEndedAt: lastComplete === undefined ? undefined : Number(lastComplete['ended_at']),
    incomplete: last === undefined || Number(last['complete']) === 1 ? undefined : { startedAt: await walkStart(db, appid, last) },
  };
}

/** A walk's start (its first run's) and, ended by `run`, its end and the followers its runs saw. */
async function walkOf(db: Database, appid: string, run: SqlRow): Promise<{ startedAt: number; endedAt: number; followers: number }> {
  const walk = await oneRow(
    db,
    'SELECT MIN(started_at) AS started_at, SUM(followers) AS followers FROM wx_runs WHERE appid = ? AND walk_id = ?',
    [appid, run['walk_id'] ?? null],
  );
  return { startedAt: Number(walk?.['started_at']), endedAt: Number(run['ended_at']), followers: Number(walk?.['followers'] ?? 0) };
}

async function walkStart(db: Database, appid: string, run: SqlRow): Promise<number> {
  const walk = await oneRow(db, 'SELECT MIN(started_at) AS started_at FROM wx_runs WHERE appid = ? AND walk_id = ?', [
    appid,
    run['walk_id'] ?? null,
  ]);
  return Number(walk?.['started_at']);
}

async function oneRow(db: Database, sql: string, params: readonly SqlValue[]): Promise<SqlRow | undefined> {
  return (await db.query(sql, params))[0];
}
