/**
 * The embedded engine: a SQLite file through `node:sqlite` (no native build). Node 22 still calls
 * the module experimental and says so on stderr at its first load: that line is the runtime's, not
 * ours, and would land in every cron mail, so it alone is kept back while the module loads.
 */
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import type { Database, SqlRow, SqlValue } from './database.js';

type SqliteModule = typeof import('node:sqlite');

async function loadSqlite(): Promise<SqliteModule> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}

export interface SqliteOptions {
  readonly readOnly: boolean;
  /** Takes the account lock (the file engine's locks are files beside the database). */
  readonly lockAccount: (appid: string) => Promise<() => Promise<void>>;
}

/** Opens (and with `readOnly: false`, creates) the file at `path`. */
export async function openSqlite(path: string, options: SqliteOptions): Promise<Database> {
  const sqlite = await loadSqlite();
  // 32 MiB of cache: a sync rewrites every row it sees, and the default 2 MiB made it wait on the
  // disk most of its time; it does not grow with the list.
  if (options.readOnly) {
    const reader = openReadOnly(sqlite, path);
    reader.exec('PRAGMA cache_size = -32768;');
    return sqliteDatabase(reader, path, options);
  }
  const db = new sqlite.DatabaseSync(path, { readOnly: false, timeout: 10_000 });
  // Pages of 16 KiB (a new file only; before WAL, which fixes it): a first sync of 1M, which
  // appends to the table and to its key's index, took 5 to 20% less CPU than with 4 KiB, in runs
  // alternating the two on the loaded machine. WAL: a page's transaction is one append, and
  // readers (changes) go on beside a sync. A checkpoint every 160 MiB of log (10,000 pages): the
  // default 4 MiB made a sync wait on the disk, and 40 MiB wrote the index's pages back several
  // times in a first sync of 1M (2.15 to 2.30 s against 2.53 to 2.56 s, alternating runs). The
  // log is removed when the sync closes the database.
  db.exec('PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;');
  db.exec('PRAGMA cache_size = -32768;');
  return sqliteDatabase(db, path, options);
}

/** SQLITE_READONLY_CANTINIT: a WAL database whose -shm file is missing and cannot be made here. */
const READONLY_CANTINIT = 1544;
const CANTOPEN = 14;

/**
 * A reader of a WAL database makes its -shm file when it is missing; where it cannot (a read-only
 * file in a folder this user cannot write, another user's database), the file is read as
 * immutable, as SQLite advises for read-only media. A sync writing it at that very moment could
 * then be read half-way: a reader without -shm cannot take part in SQLite's locking at all.
 */
function openReadOnly(sqlite: SqliteModule, path: string): DatabaseSync {
  // No -wal or -journal beside it: no sync has it open, and a reader would create -wal and -shm
  // and leave them behind. Read as immutable then: nothing is created (README, changes).
  if (!exists(`${path}-wal`) && !exists(`${path}-journal`)) return openImmutable(sqlite, path);
  const db = new sqlite.DatabaseSync(path, { readOnly: true, timeout: 10_000 });
  try {
    db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').all();
    return db;
  } catch (error) {
    const code = (error as { errcode?: unknown }).errcode;
    if (code !== READONLY_CANTINIT && code !== CANTOPEN) throw error;
    db.close();
  }
  return openImmutable(sqlite, path);
}

function openImmutable(sqlite: SqliteModule, path: string): DatabaseSync {
  const url = pathToFileURL(resolve(path));
  url.searchParams.set('immutable', '1');
  return new sqlite.DatabaseSync(url.href, { readOnly: true });
}

/** Whether a name is there, a link or anything else included. */
function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

function sqliteDatabase(db: DatabaseSync, path: string, options: SqliteOptions): Database {
  // Prepared once per statement text: a sync runs the same few statements for every page.
  const statements = new Map<string, StatementSync>();
  const prepared = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const database: Database = {
    engine: 'sqlite',
    shown: path,
    query: async (sql, params = []) => prepared(sql).all(...(params as SqlValue[])) as SqlRow[],
    rows: (sql, params = []) => rowsOf(prepared(sql).iterate(...(params as SqlValue[])) as Iterator<SqlRow>),
    transaction: async (work) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(database);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    lockAccount: options.lockAccount,
    close: async () => db.close(),
  };
  return database;
}

async function* rowsOf(iterator: Iterator<SqlRow>): AsyncIterable<SqlRow> {
  for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
}
