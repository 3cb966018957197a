/**
 * A `postgres://` or `postgresql://` URL as the plan checks it (a malformed one is exit 2 before
 * anything is opened): host, port, user, password, database, `sslmode` and `connect_timeout`.
 *
 * The password comes from the URL, else PGPASSWORD (as libpq does): PGPASSWORD keeps it out of
 * crontabs, shell history and `ps`. Never ~/.pgpass (pg's reading of it is deprecated and prints a
 * notice). Whichever it is, it is never shown: `shown` blanks it.
 *
 * Plain connections only to loopback, like plain http:// for the API: to any other host the
 * follower list (and with the `password` method the password) would cross the network in clear, so
 * `sslmode=disable` to one is refused, and the default there is `verify-full`. A server on another
 * machine without TLS is reached through a tunnel to 127.0.0.1 (ssh -L), or given a certificate.
 */
import { userInfo } from 'node:os';
import { shown, usageError } from '../../errors.js';

type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
  readonly sslmode: SslMode;
  readonly connectTimeoutSeconds: number;
  /** The URL as messages show it: the password blanked (`***`), escaped. */
  readonly shown: string;
}

const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];
const PARAMETERS = ['sslmode', 'connect_timeout'];
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 15;

/** Loopback addresses: where a plain connection carries nothing across a network. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * `origin` says where the URL came from ("--db", "WX_DB"); `env` gives PGUSER and PGPASSWORD. A
 * refusal never quotes the URL: one whose password holds a `/` or `?` (not %-encoded) is parsed
 * with part of the password in its path or query.
 */
export function parsePostgresUrl(value: string, origin: string, env: Readonly<Record<string, string | undefined>>): PostgresTarget {
  const url = parsed(value, origin);
  const bad = (what: string): Error => usageError(`The database URL from ${origin} ${what}.`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host.includes(',')) throw bad('must name one host: postgres://user:password@host:port/database');
  if (url.hash !== '' || url.pathname.includes('@') || url.pathname.lastIndexOf('/') > 0) {
    throw bad(`has more than a database after its host: %-encode a '/', '?', '#' or '@' in the password or database (${ENCODED})`);
  }
  const port = url.port === '' ? 5432 : Number(url.port);
  const user = decoded(url.username, origin) || env['PGUSER'] || userInfo().username;
  const database = decoded(url.pathname.replace(/^\//, ''), origin) || user;
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name))
      throw bad(`has a parameter the tool does not take: '${shown(name, 40)}' (only ${PARAMETERS.join(' and ')})`);
    // URLSearchParams.get takes the first: sslmode=disable&sslmode=require would be plain without a word.
    if (url.searchParams.getAll(name).length > 1) throw bad(`gives ${name} more than once: give it once`);
  }
  const sslmode = sslModeOf(url.searchParams.get('sslmode'), host, bad);
  const connectTimeoutSeconds = connectTimeoutOf(url.searchParams.get('connect_timeout'), bad);
  const password = url.password === '' ? nonEmpty(env['PGPASSWORD']) : decoded(url.password, origin);
  return { host, port, user, password, database, sslmode, connectTimeoutSeconds, shown: maskedUrl(url) };
}

const ENCODED = '/ is %2F, ? is %3F, # is %23, @ is %40, % is %25';

function parsed(value: string, origin: string): URL {
  try {
    return new URL(value);
  } catch {
    throw usageError(
      `The database URL from ${origin} is not a URL: give it as postgres://user:password@host:port/database, ` +
        `with a '/', '?', '#', '@' or '%' in the password %-encoded (${ENCODED}).`,
    );
  }
}

/** Scheme, user, host, port, database and the parameters: all but the password (parsePostgresUrl has refused every other part). */
function maskedUrl(url: URL): string {
  const credentials = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':***'}@`;
  return shown(`${url.protocol}//${credentials}${url.host}${url.pathname}${url.search}`, 300);
}

function decoded(text: string, origin: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usageError(`The database URL from ${origin} has a malformed %-escape in its user, password or database: a '%' itself is %25.`);
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

function sslModeOf(value: string | null, host: string, bad: (what: string) => Error): SslMode {
  if (value === null) return isLoopbackHost(host) ? 'disable' : 'verify-full';
  const mode = SSL_MODES.find((known) => known === value);
  if (mode === undefined) throw bad(`has sslmode=${shown(value, 40)}: use one of ${SSL_MODES.join(', ')}`);
  if (mode === 'disable' && !isLoopbackHost(host)) {
    throw bad(
      'asks for a plain connection (sslmode=disable) to a host that is not this machine: the follower list would cross the network in clear text. ' +
        'Use sslmode=verify-full (the default) or require, or reach the server through a tunnel to 127.0.0.1',
    );
  }
  return mode;
}

function connectTimeoutOf(value: string | null, bad: (what: string) => Error): number {
  if (value === null) return DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const seconds = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 1 && seconds <= 3600)) throw bad(`has connect_timeout=${shown(value, 40)}: give whole seconds from 1 to 3600`);
  return seconds;
}
