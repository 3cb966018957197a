import { escapeText, ExitCode, WxError } from '../errors.js';
import { type ForwardProxy, labelOf } from './proxy.js';
import { TunnelError } from './tunnel.js';

export interface Connecting {
  /** The API origin, `https://api.weixin.qq.com`. */
  origin: string;
  /** The API path asked for, for the message. */
  path: string;
  proxy: ForwardProxy | undefined;
  /** The setting that names the origin, for 'check ...': '--base-url' unless said ('--token-url'). */
  setting?: string;
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
  const setting = connecting.setting ?? '--base-url';
  const apiHost = new URL(origin).host;
  const code = codeOf(error);
  const tls = tlsCause(error);
  if (tls !== undefined) {
    const detail = `${tls.code}: ${escapeText(tls.message.trim())}`;
    // undici does not say which of the two TLS connections failed when the proxy speaks TLS too.
    const host = proxy?.url.protocol === 'https:' ? `${apiHost} (or the https:// proxy ${proxy.label})` : apiHost;
    if (tls.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return stop(
        `The certificate that ${host} presented is not for that host name (${detail}). Check ${setting}; a network that presents another site's certificate is not one to send a token through.`,
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
    if (error instanceof TunnelError) return tunnelFailure(error, connecting, proxy);
    if (code !== undefined && UNREACHABLE.has(code)) {
      return new WxError(
        `Could not reach the proxy ${proxy.label} (from ${proxy.from}): ${describeNetworkError(error)}. Check that the proxy is running and its host and port, or run with --no-proxy.`,
        ExitCode.Api,
        { cause: error, retry: { kind: 'backoff' } },
      );
    }
  }
  return new WxError(
    `Could not talk to ${origin}${throughProxy(proxy)} (${path}): ${describeNetworkError(error)}. Check the network and ${setting}.`,
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

/** What a proxy did to a tunnel (or a connection) being opened, in words that name it. */
function tunnelFailure(error: TunnelError, connecting: Connecting, proxy: ForwardProxy): WxError {
  const { failure } = error;
  const named = `The proxy ${proxy.label} (from ${proxy.from})`;
  const target = labelOf(new URL(connecting.origin));
  const apiHost = new URL(connecting.origin).hostname;
  const retried = (message: string): WxError => new WxError(message, ExitCode.Api, { cause: error, retry: { kind: 'backoff' } });
  const orLater = 'Check the proxy (its log, its network), or try again later.';
  switch (failure.kind) {
    case 'timeout':
      if (failure.stage === 'proxy') {
        return retried(
          `Could not reach the proxy ${proxy.label} (from ${proxy.from}): no connection within ${failure.ms} ms. Check that the proxy is running and its host and port, or run with --no-proxy.`,
        );
      }
      if (failure.stage === 'answer') {
        return retried(`${named} did not answer the CONNECT to ${target} within ${failure.ms} ms. ${orLater} Or raise --timeout.`);
      }
      return retried(
        `The TLS handshake with ${apiHost} through the proxy ${proxy.label} (from ${proxy.from}) did not complete within ${failure.ms} ms. ${orLater} Or raise --timeout.`,
      );
    case 'closed':
      if (failure.stage === 'handshake')
        return retried(`${named} closed the tunnel to ${target} during the TLS handshake with ${apiHost}. ${orLater}`);
      return retried(
        `${named} closed the ${failure.stage === 'proxy' ? 'connection' : 'tunnel'} before answering the CONNECT to ${target}. ${orLater}`,
      );
    case 'reset':
      if (failure.stage === 'proxy') return retried(`${named} reset the connection (ECONNRESET) as it was opened. ${orLater}`);
      return retried(`${named} reset the connection (ECONNRESET) before answering the CONNECT to ${target}. ${orLater}`);
    case 'not-http':
      return stop(
        `${named} answered the CONNECT to ${target} with something that is not HTTP. Check its host and port: they lead to some other kind of server.`,
        error,
      );
    case 'not-tls':
      return stop(`The proxy at ${proxy.label} (from ${proxy.from}) does not speak TLS: use http:// for it.`, error);
    case 'status':
      return proxyRefusal(failure.status, connecting, proxy, error);
  }
}

/**
 * A proxy's refusal, in its own answer, to take a request on: the CONNECT's status, or its
 * answer to a forwarded request. A 407 is its password; a 5xx, its way to the API (retried);
 * anything else, its rules.
 */
export function proxyRefusal(status: number, connecting: Connecting, proxy: ForwardProxy, cause?: unknown): WxError {
  const named = `The proxy ${proxy.label} (from ${proxy.from})`;
  const target = labelOf(new URL(connecting.origin));
  if (status === 407) {
    return new WxError(
      `${named} refused its credentials (HTTP 407 Proxy Authentication Required). ` +
        'Check the user and password in the proxy URL (http://user:password@host:port; %-encode @, : and / in them).',
      ExitCode.Credentials,
      { cause },
    );
  }
  const transient = status >= 500;
  // An https origin is asked for through a tunnel; an http one, with the absolute URI (forward).
  const tunnel = new URL(connecting.origin).protocol === 'https:';
  const what = tunnel ? `did not open a tunnel to ${target}` : `answered ${connecting.path} for ${target} itself, not the API`;
  const message =
    `${named} ${what} (HTTP ${status}). ` +
    (transient
      ? 'It could not reach the API: check its network, or try again later.'
      : `Check that it allows ${tunnel ? 'CONNECT' : 'requests'} to ${target}.`);
  return new WxError(message, ExitCode.Api, { cause, ...(transient ? { retry: { kind: 'backoff' } } : {}) });
}

function stop(message: string, cause: unknown): WxError {
  return new WxError(message, ExitCode.Api, { cause });
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
