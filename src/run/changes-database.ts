/** `changes`' side of the database: opened read-only, its schema checked, its account chosen. */
import { escapeText, ExitCode, shown, usageError, WxError } from '../errors.js';
import { accountsOf } from '../out/db/changes-queries.js';
import type { Database } from '../out/db/database.js';
import { checkSchemaVersion, schemaVersionOf } from '../out/db/migrate.js';
import { openDatabase } from '../out/db/open.js';
import type { AccountChoice, DatabaseTarget } from '../plan/changes.js';

/** Opens the target without writing it, and checks that it is a database of this tool that it can read. */
export async function openForReading(target: DatabaseTarget, env: NodeJS.ProcessEnv): Promise<Database> {
  const db = await openDatabase(target.target, { readOnly: true, env });
  try {
    await checkSchema(db);
    return db;
  } catch (error) {
    await db.close();
    throw error instanceof WxError ? error : unreadable(db.shown, error);
  }
}

/** A newer schema is refused, never read as if it were this one: its tables may mean other things. */
async function checkSchema(db: Database): Promise<void> {
  const version = await schemaVersionOf(db);
  if (version === undefined) {
    throw usageError(
      `${escapeText(db.shown)} is not a database of wx-followers (it has no wx_schema table). Give --db the database \`wx-followers sync\` wrote.`,
    );
  }
  checkSchemaVersion(version, escapeText(db.shown));
}

function unreadable(shownTarget: string, error: unknown): WxError {
  const detail = escapeText(error instanceof Error ? error.message : String(error));
  return usageError(`Could not read the database ${escapeText(shownTarget)}: ${detail}. Is it the file \`wx-followers sync\` wrote?`);
}

/** A query that failed once the database was open: a server gone, a file changed under the reader. */
export function readFailure(db: Database): (error: unknown) => never {
  return (error) => {
    if (error instanceof WxError) throw error;
    const detail = escapeText(error instanceof Error ? error.message : String(error));
    throw new WxError(`Could not read the database ${escapeText(db.shown)}: ${detail}.`, ExitCode.Failure, { cause: error });
  };
}

/** The account named, if the database has runs of it; else its only account; several are listed. */
export async function accountToRead(db: Database, choice: AccountChoice): Promise<string> {
  const accounts = await accountsOf(db).catch(readFailure(db));
  const listed = accounts.map((appid) => shown(appid, 40)).join(', ');
  if (accounts.length === 0) {
    throw usageError(`${escapeText(db.shown)} holds no account yet: run \`wx-followers sync\` first.`);
  }
  if (choice.appid !== undefined) {
    if (accounts.includes(choice.appid)) return choice.appid;
    throw usageError(
      `${escapeText(db.shown)} has no sync of ${choice.appid} (${choice.origin}). Its accounts are: ${listed}. Run \`wx-followers sync\` for it first, or choose one of those with --appid.`,
    );
  }
  const [only] = accounts;
  if (accounts.length === 1 && only !== undefined) return only;
  throw usageError(`${escapeText(db.shown)} holds ${accounts.length} accounts: ${listed}. Choose one with --appid or --profile.`);
}
