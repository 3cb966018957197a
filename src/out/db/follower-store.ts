/**
 * What `sync` writes, as statements run against `Database` in the SQL both engines speak (a list
 * of values is one JSON parameter, read by each engine's own function: JsonSql). The
 * meaning of the tables is a contract (README, "The database"): one transaction per page (its
 * followers, its joined changes, the run's cursor), one at the end of a complete walk (who left,
 * the run complete), so that the database never shows half a page or half an ending.
 */
import type { FollowerInfo } from '../../openid.js';
import type { Database, DatabaseEngine, SqlRow, SqlValue } from './database.js';
import { idRanges, inIdOrder, matchPage, rangesSize, type SeenIds, type Window } from './walk-window.js';

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
 * Rows of the account read ahead of a page, as what the page is expected to hold: the page's size,
 * and room for those that left in between (a list in the same order as the last walk).
 */
const WINDOW_SLACK = 1.1;
/** Rows of details a statement: 9 parameters each. */
const DETAILS_A_STATEMENT = 500;

/** The follower database of one account. `now()` is the run's clock, in unix seconds. */
export class FollowerStore {
  readonly #db: Database;
  readonly #appid: string;
  readonly #sql: JsonSql;
  /** The id after which the next page's window starts: undefined until the run's first page finds it. */
  #windowAfter: number | undefined;

  constructor(db: Database, appid: string) {
    this.#db = db;
    this.#appid = appid;
    this.#sql = jsonSql(db.engine);
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
    this.#windowAfter = 0;
    return { ...run, walkId: run.id, cursor: undefined, continued: false, walkedBefore: 0 };
  }

  /**
   * One page, in one transaction: the rows the walk expects next are read in one range and matched
   * with the page; only what does not match is written or looked up (a new follower inserted, one
   * that had left back, joined now), with a 'joined' change for each (none in the baseline); the
   * ids seen are kept as ranges (wx_walk_seen), and the run's cursor moves past the page. A follower
   * that goes on following is not written at all.
   */
  async savePage(run: SyncRun, page: WalkedPage, now: number): Promise<PageSaved> {
    const { openids } = page;
    return this.#db.transaction(async (tx) => {
      const after = this.#windowAfter ?? (await this.#idOf(tx, run.cursor));
      const window = await this.#window(tx, after, Math.ceil(openids.length * WINDOW_SLACK));
      const match = matchPage(openids, window);
      const { seen, joiners } = await this.#saveUnmatched(tx, match.unmatched, now);
      // A list that shifts under the walk may repeat an OpenID within a page: counted once, as
      // the ranges hold each id once.
      const seenRanges = idRanges([...match.seenIds, ...seen.ids], seen.ranges);
      const followers = rangesSize(seenRanges);
      const joined = run.baseline ? [] : joiners;
      if (joined.length > 0) {
        await tx.query(
          `INSERT INTO wx_changes (run_id, appid, openid, kind, at) SELECT CAST(? AS BIGINT), CAST(? AS TEXT), page.value, 'joined', CAST(? AS BIGINT) FROM ${this.#sql.page}`,
          [run.id, this.#appid, now, JSON.stringify(joined)],
        );
      }
      await tx.query(`INSERT INTO wx_walk_seen (appid, walk_id, lo, hi) SELECT CAST(? AS TEXT), CAST(? AS BIGINT), ${this.#sql.pairs}`, [
        this.#appid,
        run.walkId,
        JSON.stringify(seenRanges),
      ]);
      await tx.query('UPDATE wx_runs SET cursor = ?, total = ?, followers = followers + ?, joined = joined + ? WHERE id = ?', [
        page.cursor,
        page.total ?? null,
        followers,
        joined.length,
        run.id,
      ]);
      // Where the list goes on: after the last row matched in order; when none was (new followers
      // at the end of the list, or a list in another order), after the page's largest id.
      this.#windowAfter = match.lastId ?? Math.max(after, seenRanges.at(-1)?.[1] ?? after);
      return { followers, joined: joined.length };
    });
  }

  /** The id of a follower of the account (0, before every id, for none: a walk's start). */
  async #idOf(tx: Database, openid: string | undefined): Promise<number> {
    if (openid === undefined) return 0;
    const [row] = await tx.query('SELECT id FROM wx_followers WHERE appid = ? AND openid = ?', [this.#appid, openid]);
    return row === undefined ? 0 : numberOf(row, 'id');
  }

  /**
   * The account's followers among the `size` ids after `after`, in id order: a range of the table
   * (SQLite's rowid, PostgreSQL's primary key), not an index of the account, so that a sync writes
   * one index fewer; where other accounts' rows come between, the window holds fewer, and the rest
   * of the page is looked up. (`notIndexed`: no index of appid, which would read all of the
   * account's rows, only the range.)
   */
  async #window(tx: Database, after: number, size: number): Promise<Window> {
    const [row] = await tx.query(
      `SELECT ${this.#sql.jsonArray('id')} AS ids, ${this.#sql.jsonArray('openid')} AS openids
         FROM (SELECT id, openid FROM wx_followers WHERE id > ? AND id <= ? AND ${this.#sql.notIndexed('appid')} = ? AND left_at IS NULL ORDER BY id) AS ahead`,
      [after, after + size, this.#appid],
    );
    const ids = JSON.parse(textOf(row, 'ids') ?? '[]') as number[];
    const openids = JSON.parse(textOf(row, 'openids') ?? '[]') as string[];
    return inIdOrder({ ids, openids });
  }

  /**
   * The page's OpenIDs the window did not hold: inserted when new (in page order, so that their ids
   * follow the list's), looked up when not (out of the list's order, or back after leaving: joined
   * again). Their ids, and the joiners (new or back) in page order.
   */
  async #saveUnmatched(tx: Database, unmatched: readonly string[], now: number): Promise<{ seen: SeenIds; joiners: readonly string[] }> {
    if (unmatched.length === 0) return { seen: { ids: [], ranges: [] }, joiners: [] };
    const inserted = await this.#insertNew(tx, unmatched, now);
    if (inserted.count === unmatched.length) return { seen: inserted, joiners: unmatched };
    const insertedIds = new Set(inserted.ids);
    const isNew = (row: SqlRow): boolean => {
      const id = numberOf(row, 'id');
      return insertedIds.has(id) || inserted.ranges.some(([lo, hi]) => id >= lo && id <= hi);
    };
    const rows = await tx.query(
      `SELECT f.id, f.openid, f.left_at FROM ${this.#sql.page} CROSS JOIN wx_followers f WHERE f.appid = ? AND f.openid = page.value`,
      [JSON.stringify(unmatched), this.#appid],
    );
    const found = rows.filter((row) => !isNew(row));
    const back = found.filter((row) => row['left_at'] !== null);
    if (back.length > 0) {
      await tx.query(
        `UPDATE wx_followers SET left_at = NULL, last_seen = NULL, joined_at = CAST(? AS BIGINT) WHERE id IN (SELECT ${this.#sql.ids})`,
        [now, JSON.stringify(back.map((row) => numberOf(row, 'id')))],
      );
    }
    const staying = new Set(found.filter((row) => row['left_at'] === null).map((row) => String(row['openid'])));
    const seen = { ids: [...inserted.ids, ...found.map((row) => numberOf(row, 'id'))], ranges: inserted.ranges };
    return { seen, joiners: [...new Set(unmatched.filter((openid) => !staying.has(openid)))] };
  }

  /**
   * Inserts those of the OpenIDs that are new (in their order, so that their ids follow the list's);
   * the ids given, and how many. SQLite gives the rows of one statement consecutive ids (no
   * AUTOINCREMENT: each the largest so far plus one), so that its changes() and last_insert_rowid()
   * say them as one range, without a row back for each; PostgreSQL's identity may interleave with
   * another account's sync, and returns them.
   */
  async #insertNew(tx: Database, openids: readonly string[], now: number): Promise<SeenIds & { count: number }> {
    const insert = `INSERT INTO wx_followers (appid, openid, first_seen, joined_at)
      SELECT CAST(? AS TEXT), page.value, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM ${this.#sql.page} WHERE true ${this.#sql.inPageOrder}
      ON CONFLICT (appid, openid) DO NOTHING`;
    const params = [this.#appid, now, now, JSON.stringify(openids)];
    if (this.#db.engine === 'postgres') {
      const ids = (await tx.query(`${insert} RETURNING id`, params)).map((row) => numberOf(row, 'id'));
      return { ids, ranges: [], count: ids.length };
    }
    await tx.query(insert, params);
    const [inserted] = await tx.query('SELECT changes() AS count, last_insert_rowid() AS last');
    const count = numberOf(inserted, 'count');
    const last = numberOf(inserted, 'last');
    return { ids: [], ranges: count > 0 ? [[last - count + 1, last]] : [], count };
  }

  /**
   * The end of a complete walk, in one transaction: every follower of the account this walk did
   * not see has left (a 'left' change for each, outside the baseline), and the run is complete.
   * Who the walk did not see: the gaps between the ranges of ids it saw, so that only their rows
   * are read.
   */
  async finishWalk(run: SyncRun, now: number): Promise<{ left: number }> {
    const result = await this.#db.transaction(async (tx) => {
      const [before] = await tx.query('SELECT MAX(ended_at) AS ended_at FROM wx_runs WHERE appid = ? AND complete = 1', [this.#appid]);
      const lastComplete = typeof before?.['ended_at'] === 'number' ? before['ended_at'] : 0;
      const params = [run.walkId, this.#appid];
      const unseen = unseenSql(this.#sql);
      const [counted] = await tx.query(`${unseen} SELECT COUNT(*) AS gone FROM unseen`, params);
      const left = numberOf(counted, 'gone');
      if (left > 0) {
        if (!run.baseline) {
          await tx.query(
            `INSERT INTO wx_changes (run_id, appid, openid, kind, at) ${unseen} SELECT CAST(? AS BIGINT), CAST(? AS TEXT), openid, 'left', CAST(? AS BIGINT) FROM unseen`,
            [...params, run.id, this.#appid, now],
          );
        }
        // Last seen by the last complete walk before this one, or when it joined, if later.
        await tx.query(
          `UPDATE wx_followers SET left_at = CAST(? AS BIGINT), last_seen = CASE WHEN joined_at > ? THEN joined_at ELSE CAST(? AS BIGINT) END
            WHERE id IN (${unseen} SELECT id FROM unseen)`,
          [now, lastComplete, lastComplete, ...params],
        );
      }
      await tx.query('DELETE FROM wx_walk_seen WHERE appid = ?', [this.#appid]);
      await tx.query(
        "UPDATE wx_runs SET complete = 1, left_count = ?, ended_at = CAST(? AS BIGINT), cursor = NULL, stop_reason = 'complete' WHERE id = ?",
        [left, now, run.id],
      );
      return { left };
    });
    // The baseline filled the table: PostgreSQL's planner statistics, taken now rather than when
    // autovacuum gets to it, so that the next walk's lookups probe the key. SQLite's statements
    // name their join order (CROSS JOIN) and need none.
    if (run.baseline && this.#db.engine === 'postgres') await this.#db.query('ANALYZE wx_followers');
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
 * A list of values given as ONE parameter, a JSON array, in each engine's words: a page of 10,000
 * OpenIDs is one bound string instead of 10,000 parameters (and one statement text, prepared once,
 * whatever the page's size). `page` is a FROM item with columns `value` (text) and `key` (its
 * place); `pairs` and `ids` take arrays of [lo, hi] and of ids; `jsonArray` aggregates a column of
 * `ahead` in id order as JSON text.
 */
interface JsonSql {
  readonly page: string;
  /** Inserts in the page's order (SQLite's json_each goes in order by itself). */
  readonly inPageOrder: string;
  readonly pairs: string;
  readonly ids: string;
  jsonArray(column: string): string;
  /** The column, kept from being searched through an index (SQLite's planner takes the AppID's index over a range of ids). */
  notIndexed(column: string): string;
}

function jsonSql(engine: DatabaseEngine): JsonSql {
  if (engine === 'postgres') {
    return {
      page: 'json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS page(value, key)',
      inPageOrder: 'ORDER BY page.key',
      pairs: 'CAST(page.value ->> 0 AS BIGINT), CAST(page.value ->> 1 AS BIGINT) FROM json_array_elements(CAST(? AS json)) AS page(value)',
      ids: 'CAST(page.value AS BIGINT) FROM json_array_elements_text(CAST(? AS json)) AS page(value)',
      jsonArray: (column) => `COALESCE(CAST(json_agg(ahead.${column} ORDER BY ahead.id) AS TEXT), '[]')`,
      notIndexed: (column) => column,
    };
  }
  return {
    page: 'json_each(?) AS page',
    inPageOrder: '',
    pairs: 'page.value ->> 0, page.value ->> 1 FROM json_each(?) AS page',
    ids: 'page.value FROM json_each(?) AS page',
    // In the subquery's order (inIdOrder checks it): an ORDER BY in the aggregate sorts again.
    jsonArray: (column) => `json_group_array(ahead.${column})`,
    notIndexed: (column) => `+${column}`,
  };
}

/** The largest id either engine gives (2^63 - 1): the end of the last gap. */
const LAST_ID = '9223372036854775807';

/**
 * The followers of the account (second parameter) that the walk (first parameter) did not see and
 * that were following, as `unseen` (id, openid): the seen ranges merged, the gaps between them,
 * and the account's rows in the gaps. Only rows in gaps are read: those who left, and other
 * accounts' rows between this one's (`notIndexed`, so that no index of appid is used instead).
 */
function unseenSql(sql: JsonSql): string {
  return `WITH seen AS (
    SELECT lo, hi, MAX(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
      FROM wx_walk_seen WHERE walk_id = ?),
  islands AS (
    SELECT lo, hi, SUM(CASE WHEN reach IS NULL OR lo > reach + 1 THEN 1 ELSE 0 END) OVER (ORDER BY lo, hi ROWS UNBOUNDED PRECEDING) AS island
      FROM seen),
  merged AS (SELECT MIN(lo) AS lo, MAX(hi) AS hi FROM islands GROUP BY island),
  gaps AS (
    SELECT COALESCE(LAG(hi) OVER (ORDER BY lo), 0) + 1 AS lo, lo - 1 AS hi FROM merged
    UNION ALL SELECT COALESCE(MAX(hi), 0) + 1, ${LAST_ID} FROM merged),
  unseen AS (
    SELECT f.id, f.openid FROM gaps CROSS JOIN wx_followers f
      WHERE ${sql.notIndexed('f.appid')} = ? AND f.id BETWEEN gaps.lo AND gaps.hi AND f.left_at IS NULL)`;
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
