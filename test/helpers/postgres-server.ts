/**
 * A real PostgreSQL server for one test file, started by the test itself on 127.0.0.1: initdb in
 * a folder of its own under $TMPDIR, a free port, fsync off (the data is thrown away), a role with
 * a password (so that the URL carries one, and the tests can check it is never shown). `remove`
 * stops it and removes its folder (usePostgres in postgres.ts, after a file's tests). No vitest
 * here: the bench starts one too. PostgreSQL refuses to run as root: as root the server runs as the
 * `postgres` user that Debian's package creates (setpriv), else as the user running the tests.
 *
 * The server's binaries: $PGBIN, else the newest /usr/lib/postgresql/N/bin (Debian, Ubuntu), else
 * `pg_config --bindir`. None found fails the test file loudly with how to install one.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const PG_ADMIN = 'wx_admin';
/** Percent-encoding and a few characters a careless masking would miss. */
export const PG_PASSWORD = 's3cret:p@ss/w%rd';

export interface PostgresServer {
  readonly port: number;
  /** The folder holding the data, the socket and the log (removed by `remove`). */
  readonly dir: string;
  /** postgres://wx_admin:PASSWORD@127.0.0.1:PORT/DATABASE, with `query` appended (e.g. 'sslmode=require'). */
  url(database?: string, query?: string): string;
  /** Runs SQL as the superuser on `database` (for setting up and inspecting). */
  sql(text: string, params?: unknown[], database?: string): Promise<Record<string, unknown>[]>;
  /** A new empty database; its name. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: sessions are ended, what was not committed is rolled back). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it if running and removes its folder. */
  remove(): Promise<void>;
}

export interface PostgresOptions {
  /** TLS: the server's certificate and key (PEM), asked for at start; plain and TLS connections both accepted. */
  readonly tls?: () => { readonly cert: string; readonly key: string };
}

const INSTALL_HINT =
  'Install a PostgreSQL server to run the database tests: Debian/Ubuntu `apt-get install postgresql` ' +
  '(.ci/run does so), macOS `brew install postgresql@17`, or set PGBIN to the folder holding initdb and postgres.';

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = serverBinaries();
  const owner = serverUser();
  // Traversable by the server's user (0711: no listing); the data, socket and keys inside are its own.
  const dir = mkdtempSync(join(tmpdir(), 'wx-followers-pg-'));
  try {
    chmodSync(dir, 0o711);
    checkReachable(dir, owner);
    const own = (path: string, mode: number): void => {
      if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
      chmodSync(path, mode);
    };
    for (const name of ['data', 'run']) {
      mkdirSync(join(dir, name));
      own(join(dir, name), 0o700);
    }
    writeFileSync(join(dir, 'password'), `${PG_PASSWORD}\n`);
    own(join(dir, 'password'), 0o600);
    const settings = [...serverSettings(dir), ...tlsSettings(dir, options, own)];
    runAs(owner, join(bin, 'initdb'), [
      ...['-D', join(dir, 'data'), '-U', PG_ADMIN, '--pwfile', join(dir, 'password')],
      ...['--auth', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C', '--no-sync', '--no-instructions'],
    ]);
    rmSync(join(dir, 'password'));
    return await runningServer(dir, bin, owner, settings);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverSettings(dir: string): string[] {
  return [
    ...['-c', 'listen_addresses=127.0.0.1', '-k', join(dir, 'run')],
    // Thrown away after the test file: nothing is worth an fsync.
    ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ...['-c', 'max_connections=40', '-c', 'shared_buffers=32MB', '-c', 'log_min_messages=warning'],
  ];
}

function tlsSettings(dir: string, options: PostgresOptions, own: (path: string, mode: number) => void): string[] {
  if (options.tls === undefined) return [];
  const { cert, key } = options.tls();
  writeFileSync(join(dir, 'server.crt'), cert);
  writeFileSync(join(dir, 'server.key'), key);
  own(join(dir, 'server.crt'), 0o644);
  own(join(dir, 'server.key'), 0o600);
  return ['-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'server.crt')}`, '-c', `ssl_key_file=${join(dir, 'server.key')}`];
}

async function runningServer(dir: string, bin: string, owner: Owner | undefined, settings: string[]): Promise<PostgresServer> {
  let port = await freePort();
  let child: ChildProcess | undefined = await launch(bin, owner, dir, port, settings).catch(async () => {
    // The port was taken between our look and the server's bind: once more on another.
    port = await freePort();
    return launch(bin, owner, dir, port, settings);
  });
  const url = (database = 'postgres', query?: string): string =>
    `postgres://${PG_ADMIN}:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/${database}${query === undefined ? '' : `?${query}`}`;
  const sql = async (text: string, params: unknown[] = [], database = 'postgres'): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: PG_ADMIN, password: PG_PASSWORD, database });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  let databases = 0;
  const stop = async (): Promise<void> => {
    if (child !== undefined) await stopped(child);
    child = undefined;
  };
  return {
    port,
    dir,
    url,
    sql,
    createDatabase: async () => {
      databases += 1;
      const name = `wx_test_${databases}`;
      await sql(`CREATE DATABASE ${name}`);
      return name;
    },
    stop,
    start: async () => {
      if (child === undefined) child = await launch(bin, owner, dir, port, settings);
    },
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `postgres` and resolves once it accepts connections; rejects (the log's end quoted) if it exits. */
async function launch(bin: string, owner: Owner | undefined, dir: string, port: number, settings: string[]): Promise<ChildProcess> {
  const [command, args] = asOwner(owner, join(bin, 'postgres'), ['-D', join(dir, 'data'), '-p', String(port), ...settings]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`postgres exited (${code ?? signal}) while starting:\n${log}`)));
  });
  exited.catch(() => undefined);
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const ready = await Promise.race([accepts(port), exited]);
    if (ready) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopped(child);
  throw new Error(`postgres did not accept connections on port ${port} within 60 s:\n${log}`);
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: PG_ADMIN, password: PG_PASSWORD, database: 'postgres' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGINT: PostgreSQL's fast shutdown (sessions ended, their transactions rolled back).
  child.kill('SIGINT');
  const late = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exit;
  clearTimeout(late);
}

function serverBinaries(): string {
  const candidates: string[] = [];
  const fromEnv = process.env['PGBIN'];
  if (fromEnv !== undefined && fromEnv !== '') candidates.push(fromEnv);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((name) => /^\d+$/.test(name));
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debian, version, 'bin')));
  }
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // No pg_config on PATH.
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb')));
  if (found === undefined) throw new Error(`No PostgreSQL server binaries (initdb, postgres) found. ${INSTALL_HINT}`);
  return found;
}

interface Owner {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** undefined: the tests' own user. As root: `postgres`, which PostgreSQL's packages create. */
function serverUser(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (ids.status !== 0 || gid.status !== 0) {
    throw new Error(`The tests run as root, which PostgreSQL refuses, and there is no 'postgres' user to run it as. ${INSTALL_HINT}`);
  }
  return { name: 'postgres', uid: Number(ids.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function asOwner(owner: Owner | undefined, command: string, args: string[]): [string, string[]] {
  if (owner === undefined) return [command, args];
  return ['setpriv', ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups', '--', command, ...args]];
}

function runAs(owner: Owner | undefined, command: string, args: string[]): void {
  const [file, argv] = asOwner(owner, command, args);
  const result = spawnSync(file, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`);
}

function checkReachable(dir: string, owner: Owner | undefined): void {
  if (owner === undefined) return;
  const [file, argv] = asOwner(owner, 'test', ['-x', dir]);
  if (spawnSync(file, argv).status !== 0) {
    throw new Error(
      `The '${owner.name}' user cannot reach ${dir}: a folder above it is closed to other users. ` +
        `Run the tests with a TMPDIR that others may traverse (chmod o+x; .ci/run and test/global-setup.ts make theirs so).`,
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
