/**
 * Creating and checking the follower database's schema. An empty database gets the current
 * version in one transaction; a database of the current version is used as it is; one of a newer
 * version (written by a later wx-followers) is refused with exit 2 and left untouched.
 */
import { ExitCode, WxError } from '../../errors.js';
import type { Database } from './database.js';
import { SCHEMA_VERSION, schemaV1 } from './schema.js';

/** The schema version the database holds; undefined for a database without the tool's tables. */
export async function schemaVersionOf(db: Database): Promise<number | undefined> {
  if (!(await hasSchemaTable(db))) return undefined;
  const rows = await db.query('SELECT version FROM wx_schema');
  const version = rows[0]?.['version'];
  if (rows.length !== 1 || typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new WxError(
      `${db.shown} has a wx_schema table without exactly one version in it: it was changed by hand or by another tool. Give --db another database.`,
      ExitCode.Usage,
    );
  }
  return version;
}

/** Refuses a version this tool does not know (a newer one), before anything is written. */
export function checkSchemaVersion(version: number | undefined, shown: string): void {
  if (version === undefined || version <= SCHEMA_VERSION) return;
  throw new WxError(
    `${shown} holds schema version ${version}, newer than version ${SCHEMA_VERSION}, the newest this wx-followers knows: it was written by a later wx-followers. Nothing was changed. Upgrade wx-followers (npm install -g wx-followers@latest), or give --db another database.`,
    ExitCode.Usage,
  );
}

/**
 * Brings the database to SCHEMA_VERSION: created in one transaction when empty (two runs that
 * create it at once: the second finds it made), refused when newer. Versions older than the
 * current one do not exist yet: version 1 is the first.
 */
export async function migrate(db: Database): Promise<void> {
  checkSchemaVersion(await schemaVersionOf(db), db.shown);
  await db.transaction(async (tx) => {
    // Looked at again inside the transaction, which holds the database's write lock.
    if (db.engine === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(2512025)');
    const version = await schemaVersionOf(tx);
    checkSchemaVersion(version, db.shown);
    if (version !== undefined) return;
    for (const statement of schemaV1(db.engine)) await tx.query(statement);
  });
}

/** The one place the engines' catalogues differ: whether wx_schema exists. */
async function hasSchemaTable(db: Database): Promise<boolean> {
  const sql =
    db.engine === 'sqlite'
      ? "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'wx_schema'"
      : "SELECT 1 AS found FROM information_schema.tables WHERE table_name = 'wx_schema' AND table_schema = current_schema()";
  return (await db.query(sql)).length > 0;
}
