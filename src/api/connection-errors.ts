import { escapeText, ExitCode, WxError } from '../errors.js';
import { type ForwardProxy, labelOf } from './proxy.js';

export interface Connecting {
  /** The API origin, `https://api.weixin.qq.com`. */
  origin: string;
  /** The API path asked for, for the message. */
  path: string;
  proxy: ForwardProxy | undefined;
}

/** Certificate errors that a CA of the user's (a corporate proxy's, say) given by NODE_EXTRA_CA_CERTS cures. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The errors of a connection to the proxy itself; behind it, the proxy answers CONNECT with a status. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A request that got no answer, in words a person can act on: a certificate that is not trusted,
 * a proxy that refused or is down, or the network. Failures that may pass are retried; a
 * certificate, a proxy's password or its rules are not, since the next try meets them again.
 * The proxy is named by host and port alone: its URL may carry a password.
 */
export function connectionFailure(error: unknown, connecting: Connecting): WxError {
  const { origin, path, proxy } = connecting;
  const apiHost = new URL(origin).host;
  const code = codeOf(error);
  const tls = tlsCause(error);
  if (tls !== undefined) {
    const detail = `${tls.code}: ${escapeText(tls.message.trim())}`;
    // undici does not say which of the two TLS connections failed when the proxy speaks TLS too.
    const host = proxy?.url.protocol === 'https:' ? `${apiHost} (or the https:// proxy ${proxy.label})` : apiHost;
    if (tls.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return stop(
        `The certificate that ${host} presented is not for that host name (${detail}). Check --base-url; a network that presents another site's certificate is not one to send a token through.`,
        error,
      );
    }
    if (OUT_OF_DATE.has(tls.code)) {
      return stop(`The certificate that ${host} presented is out of date (${detail}). Check this machine's clock.`, error);
    }
    return stop(
      `The certificate that ${host} presented is not trusted (${detail}). A proxy or network that inspects HTTPS presents its own certificate: ` +
        "if it is your organization's, give its CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; otherwise do not use this network for the export.",
      error,
    );
  }
  if (proxy !== undefined) {
    const named = `the proxy ${proxy.label} (from ${proxy.from})`;
    const status = proxyStatus(error);
    if (status === 407) {
      return new WxError(
        `${capitalized(named)} refused its credentials (HTTP 407 Proxy Authentication Required). ` +
          'Check the user and password in the proxy URL (http://user:password@host:port; %-encode @, : and / in them).',
        ExitCode.Credentials,
        { cause: error },
      );
    }
    if (status !== undefined) {
      const transient = status >= 500;
      const message =
        `${capitalized(named)} did not open a tunnel to ${labelOf(new URL(origin))} (HTTP ${status}). ` +
        (transient
          ? 'It could not reach the API: check its network, or try again later.'
          : `Check that it allows CONNECT to ${labelOf(new URL(origin))}.`);
      return new WxError(message, ExitCode.Api, { cause: error, ...(transient ? { retry: { kind: 'backoff' } } : {}) });
    }
    if (code !== undefined && UNREACHABLE.has(code)) {
      return new WxError(
        `Could not reach ${named}: ${describeNetworkError(error)}. Check that the proxy is running and its host and port, or run with --no-proxy.`,
        ExitCode.Api,
        { cause: error, retry: { kind: 'backoff' } },
      );
    }
  }
  return new WxError(
    `Could not talk to ${origin}${throughProxy(proxy)} (${path}): ${describeNetworkError(error)}. Check the network and --base-url.`,
    ExitCode.Api,
    {
      cause: error,
      retry: { kind: 'backoff' },
    },
  );
}

/** ' through the proxy host:port', for messages about a request. */
export function throughProxy(proxy: ForwardProxy | undefined): string {
  return proxy === undefined ? '' : ` through the proxy ${proxy.label}`;
}

function stop(message: string, cause: unknown): WxError {
  return new WxError(message, ExitCode.Api, { cause });
}

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

/** The certificate error itself, also when undici wraps it (UND_ERR_PRX_TLS). */
function tlsCause(error: unknown): { code: string; message: string } | undefined {
  for (let each: unknown = error, depth = 0; each instanceof Error && depth < 4; each = each.cause, depth += 1) {
    const code = codeOf(each);
    if (code !== undefined && (UNTRUSTED.has(code) || OUT_OF_DATE.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID')) {
      return { code, message: each.message };
    }
  }
  return undefined;
}

/**
 * The status a proxy answered instead of opening the tunnel. undici says it only in its message:
 * "Proxy response (407) !== 200 when HTTP Tunneling", or "Proxy Authentication Required (407)"
 * for an http origin.
 */
function proxyStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^Proxy (?:response \((\d{3})\) !== 200|Authentication Required \((407)\))/.exec(error.message);
  const status = match?.[1] ?? match?.[2];
  return status === undefined ? undefined : Number(status);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    const causeCode = error.cause instanceof Error ? codeOf(error.cause) : undefined;
    // OpenSSL's text ends in a line break ("...ssl3_record.c:354:\n"): one line, escaped, as said.
    return [code, causeCode, error.message.trim()]
      .filter((part): part is string => part !== undefined && part !== '')
      .map((part) => escapeText(part))
      .join(': ');
  }
  return escapeText(String(error).trim());
}
