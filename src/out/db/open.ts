/**
 * Opening the follower database by its target: a `postgres://` or `postgresql://` URL is the
 * shared engine; anything else is a SQLite file path, whose account locks are files beside it.
 */
import { ExitCode, escapeText, WxError } from '../../errors.js';
import { FileLock, lockHolder } from '../lock.js';
import type { Database, SqlRow } from './database.js';
import { openPostgres } from './postgres.js';
import { parsePostgresUrl } from './postgres-target.js';
import { schemaVersionOf } from './migrate.js';
import { openSqlite } from './sqlite.js';

export interface OpenOptions {
  /** Read only (changes, the plan's look at the schema): nothing is created or written. */
  readonly readOnly: boolean;
  /** PGUSER and PGPASSWORD, for a postgres:// URL without a user or password (the plan's io.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Whether the target names a PostgreSQL database rather than a file. */
export function isPostgresTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Opens the database a target names (`readOnly: false` creates a SQLite file that is not there). */
export async function openDatabase(target: string, options: OpenOptions): Promise<Database> {
  if (isPostgresTarget(target)) {
    return openPostgres(parsePostgresUrl(target, 'the database target', options.env ?? {}), { readOnly: options.readOnly });
  }
  return openSqliteFile(target, options);
}

/**
 * The lock of one account's sync in a SQLite database: a file beside it, named after the
 * database and the AppID (an AppID is letters and digits), created O_EXCL as every lock is.
 */
export function accountLockPath(databasePath: string, appid: string): string {
  return `${databasePath}-${appid.replace(/[^A-Za-z0-9_-]/g, '_')}.lock`;
}

async function openSqliteFile(path: string, options: OpenOptions): Promise<Database> {
  try {
    const db = await openSqlite(path, {
      readOnly: options.readOnly,
      lockAccount: async (appid) => {
        const lockPath = accountLockPath(path, appid);
        const lock = await FileLock.take(
          lockPath,
          (owner) =>
            `Another sync of ${appid} into ${escapeText(path)} is under way (${lockHolder(owner)}); ${escapeText(lockPath)} is its lock. Let it finish: the next sync goes on where it stops.`,
        );
        return () => lock.release();
      },
    });
    return withFailuresInWords(db, path);
  } catch (error) {
    throw sqliteFailure(error, path);
  }
}

/** The same database, its failures said as WxErrors (SQLite's own message, the path, the next step). */
function withFailuresInWords(db: Database, path: string): Database {
  const inWords = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw sqliteFailure(error, path);
    }
  };
  return {
    engine: db.engine,
    shown: db.shown,
    query: (sql, params) => inWords(() => db.query(sql, params)),
    rows: (sql, params) => rowsInWords(() => db.rows(sql, params), path),
    transaction: (work) => inWords(() => db.transaction(work)),
    lockAccount: (appid) => db.lockAccount(appid),
    close: () => inWords(() => db.close()),
  };
}

async function* rowsInWords(rows: () => AsyncIterable<SqlRow>, path: string): AsyncIterable<SqlRow> {
  try {
    yield* rows();
  } catch (error) {
    throw sqliteFailure(error, path);
  }
}

/** A failure of SQLite itself, in words: the path and SQLite's own message, with what to do. */
function sqliteFailure(error: unknown, path: string): unknown {
  if (error instanceof WxError || !(error instanceof Error)) return error;
  const message = error.message;
  if (/file is not a database|malformed/i.test(message)) {
    return new WxError(
      `${escapeText(path)} is not a SQLite database (${escapeText(message)}): give --db a database the tool made, or a path where it may make one.`,
      ExitCode.Usage,
      { cause: error },
    );
  }
  return new WxError(`The database ${escapeText(path)} failed: ${escapeText(message)}.`, ExitCode.Failure, { cause: error });
}

/**
 * The schema version a database holds, read without writing (what a plan checks before a run
 * starts): undefined for an empty database. The database is opened read-only and closed again.
 */
export async function readSchemaVersion(target: string, env?: OpenOptions['env']): Promise<number | undefined> {
  const db = await openDatabase(target, { readOnly: true, ...(env === undefined ? {} : { env }) });
  try {
    return await schemaVersionOf(db);
  } finally {
    await db.close();
  }
}
