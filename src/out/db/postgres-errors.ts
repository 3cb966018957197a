/**
 * What pg throws, in words with the next step: a refused or unknown host, a timeout, a login or
 * database the server refuses, TLS that fails, the server going away mid-run, a statement refused.
 * Every message names the database as `target.shown` (its password blanked), and any text of pg's
 * or the server's is shown escaped with the password (raw and %-encoded) blanked as well, in case
 * it ever quotes a connection string.
 */
import { ExitCode, shown, WxError } from '../../errors.js';
import type { PostgresTarget } from './postgres-target.js';

/** Which failures mean the connection is gone (the server stopped, the network broke). */
const CONNECTION_LOST = /Connection terminated|connection error and is not queryable|not queryable|ECONNRESET|EPIPE/;
const CERTIFICATE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
/** pg's words when the server asks for a SCRAM password and the tool has none to give. */
const NO_PASSWORD = /client password must be a (non-empty )?string/;

export function databaseFailure(error: unknown, target: PostgresTarget): WxError {
  if (error instanceof WxError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const text = blanked(error instanceof Error ? error.message : String(error), target);
  const fail = (message: string): WxError => new WxError(message, ExitCode.Failure);
  const db = target.shown;
  const where = `${target.host}:${target.port}`;
  if (code === 'ECONNREFUSED') {
    return fail(
      `Could not connect to the database ${db}: nothing accepts connections on ${where}. Check that PostgreSQL runs there, then run the command again.`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return fail(
      `Could not connect to the database ${db}: the host ${shown(target.host)} is not found. Check the URL's host, then run the command again.`,
    );
  }
  if (/timeout/i.test(text) && /connect/i.test(text)) {
    return fail(
      `Could not connect to the database ${db}: ${where} did not answer within ${target.connectTimeoutSeconds} s. ` +
        'Check the host, port and firewall, or give a longer connect_timeout in the URL.',
    );
  }
  if (target.password === undefined && (NO_PASSWORD.test(text) || code === '28P01')) return fail(noPassword(target));
  const tls = tlsFailure(code, text, target);
  if (tls !== undefined) return fail(tls);
  const server = serverFailure(code, text, target);
  if (server !== undefined) return fail(server);
  if (CONNECTION_LOST.test(text) || CONNECTION_LOST.test(code)) return fail(connectionLost(db, text));
  return fail(`The database ${db} failed: ${text}. Run the command again; if it fails the same way, check the server's log.`);
}

/** SQLSTATE classes: 28 login refused, 3D no such database, 57 the server shutting down, the rest a refused statement. */
function serverFailure(code: string, text: string, target: PostgresTarget): string | undefined {
  if (!/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const db = target.shown;
  if (code.startsWith('28')) {
    return (
      `The database ${db} refused the login of user '${shown(target.user, 64)}': ${text}. ` +
      'Check the user and the password (in the URL, or PGPASSWORD when the URL has none), then run the command again.'
    );
  }
  if (code === '3D000') {
    return `The database '${shown(target.database, 64)}' does not exist on ${target.host}:${target.port}: create it (createdb), or name another in the URL, then run the command again.`;
  }
  if (code.startsWith('57P') || code.startsWith('08')) return connectionLost(db, text);
  if (code === '42501') {
    return `The database ${db} refused user '${shown(target.user, 64)}': ${text}. Grant it the rights on the tool's tables (wx_*), or use the user that created them.`;
  }
  return `The database ${db} refused a statement: ${text} (SQLSTATE ${code}). Run the command again; if it fails the same way, check the server's log.`;
}

function tlsFailure(code: string, text: string, target: PostgresTarget): string | undefined {
  const db = target.shown;
  if (/does not support SSL/.test(text)) {
    return `The database server of ${db} does not accept TLS (sslmode=${target.sslmode}): turn on ssl in its configuration, or reach it through a tunnel to 127.0.0.1.`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return (
      `The certificate of the database server of ${db} is not for ${shown(target.host)}: ${text}. ` +
      'Connect by a name the certificate holds, or use sslmode=verify-ca to check only who signed it.'
    );
  }
  if (CERTIFICATE_CODES.test(code)) {
    return (
      `The certificate of the database server of ${db} could not be verified (${shown(code, 60)}): ${text}. ` +
      'Trust its certificate authority with NODE_EXTRA_CA_CERTS=FILE, or use sslmode=require to encrypt without checking it.'
    );
  }
  return undefined;
}

/**
 * The server asked for a password and neither the URL nor PGPASSWORD gave one. Exit 1 as a
 * refused login is: both are the database's, not WeChat's credentials (exit 3).
 */
function noPassword(target: PostgresTarget): string {
  return (
    `The database ${target.shown} asks user '${shown(target.user, 64)}' for a password, and none was given: ` +
    'set PGPASSWORD (or put it in the URL, postgres://user:password@host/db, its special characters %-encoded), then run the command again.'
  );
}

function connectionLost(db: string, text: string): string {
  return (
    `The connection to the database ${db} was lost (${text}): the server stopped or the network failed. ` +
    'What was not committed was rolled back. Run the command again once the database is back.'
  );
}

/**
 * The shortest password blanked in free text, as the Reporter's addSecret: a shorter one is found
 * inside other words (`x` in the user `wx`), and blanking it there would point at it. The URL in
 * messages is masked by its structure (`shown`) whatever the password's length.
 */
const SHORTEST_BLANKED = 4;

/** The message with the password taken out wherever it appears, then escaped. */
function blanked(message: string, target: PostgresTarget): string {
  let text = message;
  const password = target.password;
  if (password !== undefined) {
    for (const form of new Set([password, encodeURIComponent(password)])) {
      if (form.length >= SHORTEST_BLANKED) text = text.split(form).join('***');
    }
  }
  return shown(text, 300);
}
