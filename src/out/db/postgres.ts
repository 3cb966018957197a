/**
 * The shared engine: PostgreSQL through `pg` (pure JavaScript). The store's SQL is the same as
 * SQLite's: `?` placeholders are numbered `$1, $2, ...` here; BIGINT and NUMERIC come back as
 * numbers and booleans as 1/0, as SQLite gives them. Three kinds of connection:
 * - a small pool for `query`, `transaction` (one client for the whole transaction) and `rows`
 *   (a server-side cursor in a transaction of its own, fetched a few hundred rows at a time);
 * - one dedicated connection per `lockAccount`, holding a session-level advisory lock for the run:
 *   the server releases it when that connection ends, so a sync that died holds nothing.
 * The proxy settings never apply: pg opens its own sockets. Every failure becomes a WxError whose
 * message names the database with its password blanked (postgres-errors.ts).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { ExitCode, WxError } from '../../errors.js';
import type { Database, SqlRow, SqlValue } from './database.js';
import { databaseFailure } from './postgres-errors.js';
import type { PostgresTarget } from './postgres-target.js';

/** Rows a cursor fetches at a time: a few hundred KiB at most, whatever the result's size. */
const ROWS_PER_FETCH = 500;
/** query, a transaction and a cursor at once; locks have connections of their own. */
const POOL_SIZE = 3;

export interface PostgresOptions {
  /** Every transaction read only (changes, the plan's look at the schema): the server refuses writes. */
  readonly readOnly: boolean;
}

/** Connects (the first connection is made here, so that a wrong URL or password fails at once). */
export async function openPostgres(target: PostgresTarget, options: PostgresOptions): Promise<Database> {
  const readOnly = options.readOnly ? { options: '-c default_transaction_read_only=on' } : {};
  const pool = new pg.Pool({ ...connectionConfig(target), ...readOnly, max: POOL_SIZE, idleTimeoutMillis: 0 });
  // An idle connection the server ends: the pool drops it, and the next use says what happened.
  pool.on('error', () => undefined);
  // A checked-out connection that breaks fails its query; without a listener it would also throw.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const connection = new PostgresConnection(pool, target);
  try {
    await connection.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return connection.database();
}

function connectionConfig(target: PostgresTarget): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    // A function, so that pg neither reads PGPASSWORD behind the plan's back nor ~/.pgpass.
    password: async () => target.password ?? '',
    ssl: tlsOptions(target),
    connectionTimeoutMillis: target.connectTimeoutSeconds * 1000,
    keepAlive: true,
    application_name: 'wx-followers',
    types: { getTypeParser: typeParser },
  };
}

/** libpq's sslmode in Node's TLS options; the CAs are Node's, with NODE_EXTRA_CA_CERTS added. */
function tlsOptions(target: PostgresTarget): false | ConnectionOptions {
  switch (target.sslmode) {
    case 'disable':
      return false;
    case 'require':
      // Encrypted, the certificate not checked (libpq's meaning of require).
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // Signed by a trusted CA, for whatever name.
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

const OID = { bool: 16, int8: 20, numeric: 1700 } as const;

/** BIGINT, NUMERIC (a SUM of BIGINTs) as numbers, booleans as 1/0: what SQLite gives the store. */
function typeParser(oid: number, format?: string): (text: string) => unknown {
  if (oid === OID.int8 || oid === OID.numeric) return wholeNumber;
  if (oid === OID.bool) return (text) => (text === 't' ? 1 : 0);
  return pg.types.getTypeParser(oid, format === 'binary' ? 'binary' : 'text');
}

function wholeNumber(text: string): number {
  const value = Number(text);
  // Times are seconds and counts are rows: never near 2^53. Anything else is no value of ours.
  if (!Number.isSafeInteger(value))
    throw new WxError(`The database returned ${text}, which is no whole number the tool stores.`, ExitCode.Failure);
  return value;
}

/** `?` → `$1, $2, ...`, outside quoted strings, quoted names and comments. */
function numberedPlaceholders(sql: string): string {
  let count = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\?/g, (token) => {
    if (token !== '?') return token;
    count += 1;
    return `$${count}`;
  });
}

type Queryable = Pick<pg.PoolClient, 'query'>;

class PostgresConnection {
  /** Set when a lock's connection broke: the account is no longer held, so nothing more is written. */
  private lostLock: WxError | undefined;
  /** The locks' connections, ended by close() if their release was not called. */
  private readonly lockClients = new Set<pg.Client>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly target: PostgresTarget,
  ) {}

  async query(sql: string, params: readonly SqlValue[] = [], on: Queryable = this.pool): Promise<SqlRow[]> {
    if (this.lostLock !== undefined) throw this.lostLock;
    try {
      const result = await on.query(numberedPlaceholders(sql), params as SqlValue[]);
      return result.rows as SqlRow[];
    } catch (error) {
      throw databaseFailure(error, this.target);
    }
  }

  async transaction<T>(work: (db: Database) => Promise<T>): Promise<T> {
    const client = await this.client();
    let broken: unknown;
    try {
      await this.query('BEGIN', [], client);
      const result = await work(this.database(client));
      await this.query('COMMIT', [], client);
      return result;
    } catch (error) {
      // A failed ROLLBACK means the connection is gone, and the server rolls back without it.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async *rows(sql: string, params: readonly SqlValue[] = []): AsyncIterable<SqlRow> {
    const client = await this.client();
    let finished = false;
    let broken: unknown;
    try {
      await this.query('BEGIN READ ONLY', [], client);
      await this.query(`DECLARE wx_rows NO SCROLL CURSOR FOR ${sql}`, params, client);
      for (;;) {
        const batch = await this.query(`FETCH ${ROWS_PER_FETCH} FROM wx_rows`, [], client);
        yield* batch;
        if (batch.length < ROWS_PER_FETCH) break;
      }
      await this.query('COMMIT', [], client);
      finished = true;
    } finally {
      // Left early (a break, an error): the transaction, and with it the cursor, is dropped.
      if (!finished) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
      }
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** A session-level advisory lock on a connection of its own, held until released or the process ends. */
  async lockAccount(appid: string): Promise<() => Promise<void>> {
    const key = advisoryKey(appid);
    const client = new pg.Client({ ...connectionConfig(this.target), application_name: holderName() });
    client.on('error', () => {
      this.lostLock ??= new WxError(
        `The connection to the database ${this.target.shown} that held the lock of AppID ${appid} was lost, so the account ` +
          'is no longer held against another sync: nothing more is written. Run the command again once the database is back.',
        ExitCode.Failure,
      );
    });
    try {
      await client.connect();
      const [row] = await this.query('SELECT pg_try_advisory_lock(?) AS taken', [key], client);
      if (row?.['taken'] !== 1) throw await this.lockRefusal(appid, key, client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw databaseFailure(error, this.target);
    }
    this.lockClients.add(client);
    return async () => {
      this.lockClients.delete(client);
      await client.end().catch(() => undefined);
    };
  }

  private async lockRefusal(appid: string, key: string, client: Queryable): Promise<WxError> {
    // Who holds it, where the server lets this role see it (the holder's application_name).
    const holders = await this.query(
      `SELECT a.application_name AS holder FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = ?::bigint`,
      [key],
      client,
    ).catch(() => []);
    const holder = holders.map((row) => row['holder']).find((name) => typeof name === 'string' && name !== '');
    return new WxError(
      `Another sync of AppID ${appid} into ${this.target.shown} holds its lock${holder === undefined ? '' : ` (${String(holder)})`}: ` +
        'two syncs of one account never run at once. Wait for it to finish, then run the command again.',
      ExitCode.Failure,
    );
  }

  database(client?: pg.PoolClient): Database {
    const database: Database = {
      engine: 'postgres',
      shown: this.target.shown,
      query: (sql, params) => this.query(sql, params, client ?? this.pool),
      rows: (sql, params) => this.rows(sql, params),
      // Inside a transaction, work runs on the same connection: one transaction, never two.
      transaction: client === undefined ? (work) => this.transaction(work) : (work) => work(database),
      lockAccount: (appid) => this.lockAccount(appid),
      close: () => this.close(),
    };
    return database;
  }

  private async close(): Promise<void> {
    const locks = [...this.lockClients];
    this.lockClients.clear();
    await Promise.all(locks.map((client) => client.end().catch(() => undefined)));
    await this.pool.end();
  }

  private async client(): Promise<pg.PoolClient> {
    if (this.lostLock !== undefined) throw this.lostLock;
    try {
      return await this.pool.connect();
    } catch (error) {
      throw databaseFailure(error, this.target);
    }
  }
}

/**
 * The lock's 64-bit key: from a hash of the AppID, so that every machine takes the same one, with
 * the tool's name in it, so that other programs' advisory locks hardly ever meet ours.
 */
function advisoryKey(appid: string): string {
  return createHash('sha256').update(`wx-followers sync ${appid}`).digest().readBigInt64BE(0).toString();
}

/** What another sync's refusal names (PostgreSQL keeps 63 bytes of it). */
function holderName(): string {
  return `wx-followers sync, pid ${process.pid} on ${hostname()}`.slice(0, 63);
}
