/**
 * The follower database a command uses (sync writes it, changes reads it): --db, else WX_DB,
 * else the profile's `db` setting, else wx-followers.db in the working directory. A file path is
 * SQLite, checked here before anything is created; a postgres:// URL is PostgreSQL.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { escapeText, usageError } from '../errors.js';
import type { StoredSettings } from '../out/config-store.js';
import { accountLockPath, isPostgresTarget, readSchemaVersion } from '../out/db/open.js';
import { checkSchemaVersion } from '../out/db/migrate.js';
import { parsePostgresUrl } from '../out/db/postgres-target.js';
import { statOrUndefined } from './export-files.js';
import { makeWritableAdvice } from './file-owner.js';

const DEFAULT_DATABASE = 'wx-followers.db';

/** Where the database is, as the run opens it, and how messages name it. */
export interface DatabasePlan {
  readonly engine: 'sqlite' | 'postgres';
  /** The path or the URL, as given: openDatabase takes it. Never shown: it may hold a password. */
  readonly target: string;
  /** The target as messages show it: escaped, a URL's password blanked. */
  readonly shown: string;
  /** The target as a --summary records it: the path as given, or the URL with its password blanked. */
  readonly named: string;
  /** What the Reporter blanks wherever it turns up: a URL's password, as given and %-encoded. */
  readonly secrets: readonly string[];
  /** Where it came from: `--db`, `WX_DB`, `config key db of profile shop`, or `the default`. */
  readonly origin: string;
  /** The schema version the plan found in it; undefined: an empty database, or no file yet. */
  readonly version: number | undefined;
}

/** The target and where it came from, before any check. */
export function chooseDatabase(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  settings: StoredSettings,
): { target: string; origin: string } {
  if (flag !== undefined) return { target: flag, origin: '--db' };
  const fromEnv = env['WX_DB']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { target: fromEnv, origin: 'WX_DB' };
  const fromConfig = settings.get('db');
  if (fromConfig !== undefined) {
    return { target: fromConfig, origin: `config key db${settings.profile === undefined ? '' : ` of profile ${settings.profile}`}` };
  }
  return { target: DEFAULT_DATABASE, origin: 'the default' };
}

/**
 * Checks the database a run would write: a SQLite file must be a regular file (not a link, a
 * folder or a device) that this user may write, in a folder that exists and this user may write
 * (SQLite keeps its journal and the tool its locks beside it); a database there already must be
 * one of a schema this tool knows. Reads only: nothing is created.
 */
export async function planDatabase(
  chosen: { target: string; origin: string },
  options: { appids: readonly string[]; writing: boolean; env: NodeJS.ProcessEnv },
): Promise<DatabasePlan> {
  const { target, origin } = chosen;
  if (target.trim() === '') throw usageError(`${origin} is empty: give a file path (SQLite) or a postgres:// URL.`);
  refuseMistypedTarget(target, origin);
  if (isPostgresTarget(target)) {
    // A malformed URL, or a plain connection to another host, is exit 2 before anything is opened.
    const postgres = parsePostgresUrl(target, origin, options.env);
    const secrets = postgres.password === undefined ? [] : [postgres.password, encodeURIComponent(postgres.password)];
    const version = await readSchemaVersion(target, options.env);
    checkSchemaVersion(version, postgres.shown);
    return { engine: 'postgres', target, shown: postgres.shown, named: postgres.shown, secrets, origin, version };
  }
  refuseUriName(target, origin);
  const shown = escapeText(target);
  const file = await checkDatabaseFile(target, origin, options.writing);
  for (const path of [
    `${target}-wal`,
    `${target}-shm`,
    `${target}-journal`,
    ...options.appids.map((appid) => accountLockPath(target, appid)),
  ]) {
    await checkNotLinked(path, target);
  }
  if (file === undefined) return { engine: 'sqlite', target, shown, named: target, secrets: [], origin, version: undefined };
  const version = await readSchemaVersion(target);
  checkSchemaVersion(version, shown);
  return { engine: 'sqlite', target, shown, named: target, secrets: [], origin, version };
}

/** What the database can be, for the messages that refuse something else. */
const ACCEPTED = 'give a SQLite file path (followers.db) or a PostgreSQL URL (postgres://user@host/db)';

/**
 * Typos that would otherwise be taken as a file's name and create it: `-` (there is no database
 * on stdin), `postgres:` without its `//`, and a URL of any other scheme (mysql://, sqlite://).
 */
export function refuseMistypedTarget(target: string, origin: string): void {
  const named = `The database ${escapeText(target)} (${origin})`;
  if (target.trim() === '-') throw usageError(`${named}: a database cannot be read from stdin or written to stdout: ${ACCEPTED}.`);
  if (/^postgres(ql)?:(?!\/\/)/i.test(target)) {
    throw usageError(`${named} lacks the // of a PostgreSQL URL: write it as postgres://user@host/db.`);
  }
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(target)?.[1];
  if (scheme !== undefined && !isPostgresTarget(target)) {
    throw usageError(`${named} is a ${escapeText(scheme)}:// URL, which this tool does not take: ${ACCEPTED}.`);
  }
}

/**
 * SQLite reads `:memory:` and a name starting with `file:` as its own (a memory database, a URI
 * whose path and `?mode=`, `?vfs=` it takes apart), so the file it would open is not the one the
 * checks here and the lock beside it look at: such a name is refused, never interpreted.
 */
export function refuseUriName(target: string, origin: string): void {
  if (target !== ':memory:' && !/^file:/i.test(target)) return;
  throw usageError(
    `The database ${escapeText(target)} (${origin}) would be read by SQLite as ${target === ':memory:' ? 'a database in memory' : 'a URI'}, not as a file: ` +
      `give a plain file path (${escapeText(`./${target}`)} if the file's name really is that).`,
  );
}

/** The file's stats when it is there; undefined when the run would create it. */
async function checkDatabaseFile(path: string, origin: string, writing: boolean): Promise<Stats | undefined> {
  const named = `${escapeText(path)} (${origin})`;
  const link = await statOrUndefined(path, fs.lstat);
  if (link?.isSymbolicLink() === true) {
    throw usageError(
      `The database ${named} is a symbolic link: the tool opens its files only by their own name. Give --db the file it points to.`,
    );
  }
  if (link?.isDirectory() === true) {
    throw usageError(`The database ${named} is a folder: give a file in it, such as --db ${escapeText(join(path, DEFAULT_DATABASE))}.`);
  }
  if (link !== undefined && !link.isFile()) throw usageError(`The database ${named} is not a regular file: give --db a file path.`);
  if (link !== undefined) refuseHardLinked(link, named);
  const folder = dirname(resolve(path));
  const parent = await statOrUndefined(folder, fs.stat);
  if (parent === undefined || !parent.isDirectory()) {
    const what = parent === undefined ? 'does not exist' : 'is not a folder';
    if (link === undefined || writing) {
      throw usageError(
        `The database ${named}: the folder ${escapeText(folder)} ${what}. Create it first (mkdir -p ${escapeText(folder)}), or give --db another path.`,
      );
    }
  }
  if (!writing) return link;
  if (link !== undefined && !(await allowed(path, constants.R_OK | constants.W_OK))) {
    throw usageError(
      `The database ${named} is read-only for this user: the sync writes into it. ${await makeWritableAdvice(path, link)}, or give --db another database.`,
    );
  }
  if (!(await allowed(folder, constants.W_OK | constants.X_OK))) {
    throw usageError(
      `The database ${named}: the folder ${escapeText(folder)} is not writable by this user, and SQLite writes its journal beside the database. Make it writable, or give --db a path in another folder.`,
    );
  }
  return link;
}

/**
 * A database file with another name (a hard link): SQLite keeps its journal beside each name, and
 * the account lock beside one name, so a run through each name would not see the other's, and
 * their writes could corrupt the file.
 */
export function refuseHardLinked(stats: Stats, named: string): void {
  if (stats.nlink <= 1) return;
  throw usageError(
    `The database ${named} has ${stats.nlink - 1} other name${stats.nlink > 2 ? 's' : ''} (hard links): SQLite keeps its journal and the tool its lock beside one name, ` +
      'so runs through two names could corrupt it. Give --db a database with one name (remove the other links, or copy it: cp).',
  );
}

/** A journal or lock beside the database must not be a link either: SQLite and the lock would write through it. */
async function checkNotLinked(path: string, database: string): Promise<void> {
  const stats = await statOrUndefined(path, fs.lstat);
  if (stats?.isSymbolicLink() === true || stats?.isDirectory() === true) {
    const what = stats.isDirectory() ? 'a folder' : 'a symbolic link';
    throw usageError(
      `${escapeText(path)}, beside the database ${escapeText(database)}, is ${what}: it is left as it is. Remove it, and run again.`,
    );
  }
}

async function allowed(path: string, mode: number): Promise<boolean> {
  try {
    await fs.access(path, mode);
    return true;
  } catch {
    return false;
  }
}
