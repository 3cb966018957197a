/**
 * What `sync` writes, as statements run against `Database` in the SQL both engines speak. The
 * meaning of the tables is a contract (README, "The database"): one transaction per page (its
 * followers, its joined changes, the run's cursor), one at the end of a complete walk (who left,
 * the run complete), so that the database never shows half a page or half an ending.
 */
import type { FollowerInfo } from '../../openid.js';
import type { Database, SqlRow, SqlValue } from './database.js';

/** One run of one account, as beginRun started it. */
export interface SyncRun {
  readonly id: number;
  readonly appid: string;
  /** The walk this run belongs to: the id of the run that started it. */
  readonly walkId: number;
  /** Where the walk goes on: after this OpenID; undefined from the first page. */
  readonly cursor: string | undefined;
  /** No complete run of the account yet: the walk is its baseline, and records no changes. */
  readonly baseline: boolean;
  /** The run goes on with a walk an earlier run started and did not finish. */
  readonly continued: boolean;
  /** OpenIDs the earlier runs of the walk saw. */
  readonly walkedBefore: number;
}

/** A page of the list as the walk hands it over. */
export interface WalkedPage {
  readonly openids: readonly string[];
  /** The cursor after this page: where a run that stops after it goes on. */
  readonly cursor: string;
  /** The list's size as the API tells it. */
  readonly total: number | undefined;
}

export interface PageSaved {
  /** Distinct OpenIDs of the page. */
  followers: number;
  joined: number;
}

/**
 * SQLite allows 32,766 parameters a statement, PostgreSQL 65,535: 10,000 OpenIDs (a whole page of
 * the API) and a few constants fit in one statement of either.
 */
const OPENIDS_A_STATEMENT = 10_000;
/**
 * OpenIDs a lookup of who is following: PostgreSQL's planner reads a page of 10,000 against a 1M
 * account by scanning all of the account's rows (a hash anti-join), so that a walk would cost
 * pages x followers; with 1,000 and statistics it probes the primary key. The second sync of 1M
 * into PostgreSQL: lookups 15.8 s -> 4.9 s. SQLite probes either way.
 */
const OPENIDS_A_LOOKUP = 1_000;
/** Rows of details a statement: 9 parameters each. */
const DETAILS_A_STATEMENT = 500;

/** The follower database of one account. `now()` is the run's clock, in unix seconds. */
export class FollowerStore {
  readonly #db: Database;
  readonly #appid: string;

  constructor(db: Database, appid: string) {
    this.#db = db;
    this.#appid = appid;
  }

  /**
   * Starts a run: it continues the account's unfinished walk (the last run stopped early, or died
   * with ended_at NULL) from its cursor, or starts a new walk from the first page (after a complete
   * run, with `restart`, or for an account the database does not know yet).
   */
  async beginRun(options: { restart: boolean; now: number }): Promise<SyncRun> {
    return this.#db.transaction(async (tx) => {
      const appid = this.#appid;
      const completeRuns = await tx.query('SELECT id FROM wx_runs WHERE appid = ? AND complete = 1 LIMIT 1', [appid]);
      const [last] = await tx.query('SELECT id, walk_id, cursor, complete FROM wx_runs WHERE appid = ? ORDER BY id DESC LIMIT 1', [appid]);
      const continued = last !== undefined && last['complete'] !== 1 && !options.restart;
      const [inserted] = await tx.query('INSERT INTO wx_runs (appid, walk_id, started_at) VALUES (?, 0, CAST(? AS BIGINT)) RETURNING id', [
        appid,
        options.now,
      ]);
      const id = numberOf(inserted, 'id');
      const walkId = continued ? numberOf(last, 'walk_id') : id;
      const cursor = continued ? textOf(last, 'cursor') : undefined;
      await tx.query('UPDATE wx_runs SET walk_id = CAST(? AS BIGINT), cursor = ? WHERE id = ?', [walkId, cursor ?? null, id]);
      const [walked] = await tx.query('SELECT COALESCE(SUM(followers), 0) AS walked FROM wx_runs WHERE appid = ? AND walk_id = ?', [
        appid,
        walkId,
      ]);
      return { id, appid, walkId, cursor, baseline: completeRuns.length === 0, continued, walkedBefore: numberOf(walked, 'walked') };
    });
  }

  /**
   * The walk this run was to continue cannot go on (the API no longer knows its cursor: that
   * follower left since): the run starts a walk of its own from the first page instead.
   */
  async restartWalk(run: SyncRun): Promise<SyncRun> {
    await this.#db.query('UPDATE wx_runs SET walk_id = id, cursor = NULL WHERE id = ?', [run.id]);
    return { ...run, walkId: run.id, cursor: undefined, continued: false, walkedBefore: 0 };
  }

  /**
   * One page, in one transaction: its followers upserted (seen now, by this walk; one that had
   * left is back, joined now), a 'joined' change for each new or returning one (none in the
   * baseline), and the run's cursor moved past the page.
   */
  async savePage(run: SyncRun, page: WalkedPage, now: number): Promise<PageSaved> {
    // A list that shifts under the walk may repeat an OpenID within a page: one row each.
    const openids = [...new Set(page.openids)];
    return this.#db.transaction(async (tx) => {
      let joined = 0;
      for (let start = 0; start < openids.length; start += OPENIDS_A_STATEMENT) {
        const chunk = openids.slice(start, start + OPENIDS_A_STATEMENT);
        const joiners = run.baseline ? [] : await this.#joinersIn(tx, chunk);
        await tx.query(upsertFollowers(chunk.length), [this.#appid, now, now, now, run.walkId, ...chunk]);
        if (joiners.length > 0) await tx.query(insertChanges(joiners.length), [run.id, this.#appid, 'joined', now, ...joiners]);
        joined += joiners.length;
      }
      await tx.query('UPDATE wx_runs SET cursor = ?, total = ?, followers = followers + ?, joined = joined + ? WHERE id = ?', [
        page.cursor,
        page.total ?? null,
        openids.length,
        joined,
        run.id,
      ]);
      return { followers: openids.length, joined };
    });
  }

  /**
   * Of these OpenIDs, those not following as far as the database knows (never seen, or gone), in
   * the page's order: only they come back, not the page's 10,000 rows.
   */
  async #joinersIn(tx: Database, openids: readonly string[]): Promise<string[]> {
    const joiners: string[] = [];
    for (let start = 0; start < openids.length; start += OPENIDS_A_LOOKUP) {
      const chunk = openids.slice(start, start + OPENIDS_A_LOOKUP);
      const rows = await tx.query(
        `SELECT page.column1 AS openid FROM (VALUES ${placeholders(chunk.length, '(?)')}) AS page
          WHERE NOT EXISTS (SELECT 1 FROM wx_followers WHERE appid = ? AND openid = page.column1 AND left_at IS NULL)`,
        [...chunk, this.#appid],
      );
      for (const row of rows) joiners.push(String(row['openid']));
    }
    return joiners;
  }

  /**
   * The end of a complete walk, in one transaction: every follower of the account this walk did
   * not see has left (a 'left' change for each, outside the baseline), and the run is complete.
   */
  async finishWalk(run: SyncRun, now: number): Promise<{ left: number }> {
    const result = await this.#db.transaction(async (tx) => {
      const gone = 'appid = ? AND left_at IS NULL AND walk_id <> ?';
      const params = [this.#appid, run.walkId];
      const [counted] = await tx.query(`SELECT COUNT(*) AS gone FROM wx_followers WHERE ${gone}`, params);
      const left = numberOf(counted, 'gone');
      if (left > 0) {
        if (!run.baseline) {
          await tx.query(
            `INSERT INTO wx_changes (run_id, appid, openid, kind, at) SELECT CAST(? AS BIGINT), appid, openid, 'left', CAST(? AS BIGINT) FROM wx_followers WHERE ${gone}`,
            [run.id, now, ...params],
          );
        }
        await tx.query(`UPDATE wx_followers SET left_at = CAST(? AS BIGINT) WHERE ${gone}`, [now, ...params]);
      }
      await tx.query(
        "UPDATE wx_runs SET complete = 1, left_count = ?, ended_at = CAST(? AS BIGINT), cursor = NULL, stop_reason = 'complete' WHERE id = ?",
        [left, now, run.id],
      );
      return { left };
    });
    // The baseline filled the table: the planners' statistics, taken now rather than when
    // autovacuum gets to it, so that the next walk's lookups probe the key (PostgreSQL without
    // statistics scans the account's rows for each). A second or two for a million followers.
    if (run.baseline) await this.#db.query('ANALYZE wx_followers');
    return result;
  }

  /** A run that stopped early: its end and why; its cursor stays for the next run, and nobody is marked gone. */
  async endRun(run: SyncRun, stopReason: string, now: number): Promise<void> {
    await this.#db.query('UPDATE wx_runs SET ended_at = CAST(? AS BIGINT), stop_reason = ? WHERE id = ?', [now, stopReason, run.id]);
  }

  /**
   * Up to `limit` followers (following now) whose details were never fetched or were fetched
   * before `olderThan`, after `after` in OpenID order: a walk through the account a batch at a
   * time, so that memory stays flat and what an earlier run left (a quota spent) comes in turn.
   */
  async detailsWanted(options: { after: string | undefined; olderThan: number; limit: number }): Promise<string[]> {
    const rows = await this.#db.query(
      'SELECT openid FROM wx_followers WHERE appid = ? AND openid > ? AND left_at IS NULL AND (details_at IS NULL OR details_at < ?) ORDER BY openid LIMIT ?',
      [this.#appid, options.after ?? '', options.olderThan, options.limit],
    );
    return rows.map((row) => String(row['openid']));
  }

  /** batchget's answers stored, in one transaction, with when they were fetched. */
  async saveDetails(infos: readonly FollowerInfo[], now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (let start = 0; start < infos.length; start += DETAILS_A_STATEMENT) {
        const chunk = infos.slice(start, start + DETAILS_A_STATEMENT);
        await tx.query(updateDetails(chunk.length), [now, ...chunk.flatMap(detailValues), this.#appid]);
      }
    });
  }
}

function placeholders(count: number, each = '?'): string {
  return Array.from({ length: count }, () => each).join(', ');
}

/**
 * The page's OpenIDs as one VALUES list of one column (`column1` in both engines), joined to the
 * constants: 5 + n parameters instead of 6n. Casts, since PostgreSQL types a bare parameter in a
 * select list as text. `WHERE true` keeps SQLite from reading ON CONFLICT as a join's ON.
 */
function upsertFollowers(count: number): string {
  return `INSERT INTO wx_followers (appid, openid, first_seen, joined_at, last_seen, walk_id)
    SELECT CAST(? AS TEXT), page.column1, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
    FROM (VALUES ${placeholders(count, '(?)')}) AS page WHERE true
    ON CONFLICT (appid, openid) DO UPDATE SET
      last_seen = excluded.last_seen,
      walk_id = excluded.walk_id,
      joined_at = CASE WHEN wx_followers.left_at IS NULL THEN wx_followers.joined_at ELSE excluded.joined_at END,
      left_at = NULL`;
}

function insertChanges(count: number): string {
  return `INSERT INTO wx_changes (run_id, appid, openid, kind, at)
    SELECT CAST(? AS BIGINT), CAST(? AS TEXT), changed.column1, CAST(? AS TEXT), CAST(? AS BIGINT)
    FROM (VALUES ${placeholders(count, '(?)')}) AS changed`;
}

const DETAIL_COLUMNS = [
  ['subscribe_time', 'BIGINT'],
  ['subscribe_scene', 'TEXT'],
  ['qr_scene', 'BIGINT'],
  ['qr_scene_str', 'TEXT'],
  ['unionid', 'TEXT'],
  ['language', 'TEXT'],
  ['tagid_list', 'TEXT'],
  ['remark', 'TEXT'],
] as const;

/** Each row's details from a VALUES list (column1 the OpenID, then DETAIL_COLUMNS in order); parameters: the time, the rows, the AppID. */
function updateDetails(count: number): string {
  const row = `(${placeholders(DETAIL_COLUMNS.length + 1)})`;
  const sets = DETAIL_COLUMNS.map(([name, type], index) => `${name} = CAST(fetched.column${index + 2} AS ${type})`);
  return `UPDATE wx_followers SET ${sets.join(', ')}, details_at = CAST(? AS BIGINT)
    FROM (VALUES ${placeholders(count, row)}) AS fetched
    WHERE wx_followers.appid = ? AND wx_followers.openid = fetched.column1`;
}

/** An answer's fields as the columns hold them; anything of another type (or absent: an unfollowed one) is NULL. */
function detailValues(info: FollowerInfo): SqlValue[] {
  const whole = (value: unknown): SqlValue => (typeof value === 'number' && Number.isSafeInteger(value) ? value : null);
  const text = (value: unknown): SqlValue => (typeof value === 'string' ? value : null);
  const tags = info['tagid_list'];
  return [
    info.openid,
    whole(info['subscribe_time']),
    text(info['subscribe_scene']),
    whole(info['qr_scene']),
    text(info['qr_scene_str']),
    text(info['unionid']),
    text(info['language']),
    Array.isArray(tags) ? JSON.stringify(tags.filter((tag) => typeof tag === 'number')) : null,
    text(info['remark']),
  ];
}

function numberOf(row: SqlRow | undefined, column: string): number {
  const value = row?.[column];
  if (typeof value !== 'number') throw new Error(`The database gave ${column} as ${typeof value}, not a number.`);
  return value;
}

function textOf(row: SqlRow | undefined, column: string): string | undefined {
  const value = row?.[column];
  return typeof value === 'string' ? value : undefined;
}
