/**
 * The one seam between the follower database (sync, changes) and the two engines it runs on:
 * SQLite through `node:sqlite` (a file, the default) and PostgreSQL (a `postgres://` URL). The
 * store's SQL is written once, against this interface, in the SQL both engines speak:
 * `?` placeholders (the PostgreSQL adapter numbers them `$1`, `$2`, ...), `INSERT ... ON CONFLICT
 * (...) DO UPDATE`, multi-row `VALUES`, BIGINT unix seconds for every time (so a day is integer
 * arithmetic in both), TEXT for strings. Only the schema's DDL differs by engine (schema.ts).
 */

/** What a parameter or a column can be: integers beyond 2^53 never occur (times are seconds). */
export type SqlValue = string | number | null;

export type SqlRow = Readonly<Record<string, SqlValue>>;

export type DatabaseEngine = 'sqlite' | 'postgres';

export interface Database {
  readonly engine: DatabaseEngine;
  /** The target as messages show it: a file path, or the URL with its password blanked. */
  readonly shown: string;
  /** Runs one statement; its rows (an empty array for a statement that returns none). */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs one statement and yields its rows a few at a time, so that memory stays flat (--list). */
  rows(sql: string, params?: readonly SqlValue[]): AsyncIterable<SqlRow>;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (and
   * the error passed on). Nothing of a transaction that did not commit is ever visible.
   */
  transaction<T>(work: (db: Database) => Promise<T>): Promise<T>;
  /**
   * Holds the account for one sync until the returned release is called (or the process ends):
   * a second sync of the same AppID into the same database is refused with a WxError that names
   * the holder, never interleaved. Other accounts of the database go on at the same time.
   */
  lockAccount(appid: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
