import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { buildConnector } from 'undici';
import { type ForwardProxy, labelOf } from './proxy.js';

/** Where the opening of a tunnel stands: reaching the proxy, awaiting its answer to CONNECT, or the TLS handshake with the API inside. */
export type TunnelStage = 'proxy' | 'answer' | 'handshake';

/** What went wrong while a tunnel was opened, for the message that names the proxy. */
export type TunnelFailure =
  | { kind: 'timeout'; stage: TunnelStage; ms: number }
  /** The proxy closed the connection (stage 'answer') or the tunnel (stage 'handshake'). */
  | { kind: 'closed'; stage: TunnelStage }
  | { kind: 'reset'; stage: TunnelStage }
  | { kind: 'not-http' }
  | { kind: 'status'; status: number }
  /** An https:// proxy that answered the TLS ClientHello with plain text. */
  | { kind: 'not-tls' };

/**
 * The failure of one attempt to open a tunnel. Its code is none that undici's client keeps a
 * request queued for (UND_ERR_SOCKET, UND_ERR_INFO): the request fails with it at once, and the
 * client's own retry loop decides whether there is another attempt.
 */
export class TunnelError extends Error {
  override readonly name = 'TunnelError';
  readonly code = 'WX_PROXY_TUNNEL';
  constructor(
    readonly failure: TunnelFailure,
    cause?: unknown,
  ) {
    super(`proxy tunnel: ${failure.kind}`, cause === undefined ? undefined : { cause });
  }
}

/** The tunnels being opened, so that a request that runs out of time can say where its tunnel stood. */
export class TunnelWatch {
  readonly #opening = new Set<{ stage: TunnelStage }>();

  track(): { stage: TunnelStage } {
    const entry: { stage: TunnelStage } = { stage: 'proxy' };
    this.#opening.add(entry);
    return entry;
  }

  done(entry: { stage: TunnelStage }): void {
    this.#opening.delete(entry);
  }

  /** The stage of the oldest tunnel still being opened. */
  stalledStage(): TunnelStage | undefined {
    for (const entry of this.#opening) return entry.stage;
    return undefined;
  }
}

/** An answer head longer than this is not a proxy's answer to CONNECT. */
const MAX_ANSWER_HEAD_BYTES = 16 * 1024;

/** OpenSSL's words when the other end answers a ClientHello in plain text. */
const PLAIN_TEXT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/** Host names only: Node warns (DEP0123) when a TLS server name is an IP address, and SNI takes none. */
function serverNameOf(hostname: string): string | undefined {
  return isIP(hostname) === 0 ? hostname : undefined;
}

function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}

/**
 * A connection to the proxy itself, plain or TLS (its certificate checked for its host name).
 * A plain-text answer to the ClientHello becomes a `not-tls` failure.
 */
function connectToProxy(proxy: ForwardProxy): Socket {
  const host = bare(proxy.url.hostname);
  const port = Number(proxy.url.port || (proxy.url.protocol === 'https:' ? 443 : 80));
  if (proxy.url.protocol !== 'https:') return tcpConnect({ host, port }).setNoDelay(true);
  const servername = serverNameOf(host);
  return tlsConnect({ host, port, ALPNProtocols: ['http/1.1'], ...(servername === undefined ? {} : { servername }) }).setNoDelay(true);
}

export interface TunnelSettings {
  proxy: ForwardProxy;
  /** The API origin the tunnel leads to. */
  target: URL;
  /** The most each stage may take: --timeout. */
  timeoutMs: number;
  watch: TunnelWatch;
}

/**
 * undici's connector for an https origin behind a proxy: one TCP (or TLS) connection to the
 * proxy, one CONNECT, one TLS handshake with the API, each stage bounded by --timeout, and no
 * second try of any of them: the client's send() loop is the only retry loop. The socket to the
 * proxy is returned at once, so that undici can destroy it when no request waits any longer
 * (a request that timed out, Ctrl-C).
 */
export function tunnelConnector(settings: TunnelSettings): buildConnector.connector {
  return (_options, callback) => openTunnel(settings, callback);
}

function openTunnel(settings: TunnelSettings, callback: buildConnector.Callback): Socket {
  const { proxy, target, timeoutMs, watch } = settings;
  const raw = connectToProxy(proxy);
  const entry = watch.track();
  let timer: NodeJS.Timeout | undefined;
  let secure: Socket | undefined;
  let settled = false;
  const finish = (error: Error | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    watch.done(entry);
    raw.removeAllListeners('data');
    // Errors after this point belong to undici's handlers on the TLS socket.
    raw.on('error', () => undefined);
    if (error === null && secure !== undefined) {
      callback(null, secure);
      return;
    }
    secure?.destroy();
    raw.destroy();
    callback(error ?? new TunnelError({ kind: 'closed', stage: entry.stage }), null);
  };
  const enter = (stage: TunnelStage): void => {
    entry.stage = stage;
    clearTimeout(timer);
    timer = setTimeout(() => finish(new TunnelError({ kind: 'timeout', stage, ms: timeoutMs })), timeoutMs);
  };
  enter('proxy');
  raw.on('error', (error) => finish(failureOf(error, entry.stage, proxy)));
  raw.on('close', () => finish(new TunnelError({ kind: 'closed', stage: entry.stage })));
  raw.once(proxy.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    enter('answer');
    raw.write(connectRequest(proxy, target));
    readAnswerHead(raw, (head) => {
      const status = statusOf(head);
      if (status !== 200) {
        finish(new TunnelError(status === undefined ? { kind: 'not-http' } : { kind: 'status', status }));
        return;
      }
      enter('handshake');
      const hostname = bare(target.hostname);
      const servername = serverNameOf(hostname);
      // `host` as well: the certificate is checked for it, not for the proxy the socket leads to.
      secure = tlsConnect({
        socket: raw,
        host: hostname,
        ALPNProtocols: ['http/1.1'],
        ...(servername === undefined ? {} : { servername }),
      });
      secure.on('error', (error) => finish(failureOf(error, 'handshake', proxy)));
      secure.once('secureConnect', () => finish(null));
    });
  });
  return raw;
}

function connectRequest(proxy: ForwardProxy, target: URL): string {
  const authority = labelOf(target);
  const authorization = proxy.authorization === undefined ? '' : `Proxy-Authorization: ${proxy.authorization}\r\n`;
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${authorization}\r\n`;
}

/**
 * Reads the proxy's answer up to its blank line and hands over the head; what follows it (none
 * before the ClientHello, from a sound proxy) is put back for TLS. Bytes that cannot begin an
 * HTTP answer, or a head that does not end, hand over what came, to be found not HTTP.
 */
function readAnswerHead(socket: Socket, onHead: (head: string) => void): void {
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    const prefix = received.subarray(0, 5).toString('latin1');
    const notHttp = !'HTTP/'.startsWith(prefix) || (end === -1 && received.length > MAX_ANSWER_HEAD_BYTES);
    if (end === -1 && !notHttp) return;
    socket.off('data', onData);
    socket.pause();
    if (end !== -1 && received.length > end + 4) socket.unshift(received.subarray(end + 4));
    onHead(notHttp ? '' : received.subarray(0, end).toString('latin1'));
  };
  socket.on('data', onData);
}

function statusOf(head: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?(?:\r\n|$)/.exec(head);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A socket error in words of what the proxy did; certificate errors and the like pass as they are. */
function failureOf(error: Error, stage: TunnelStage, proxy: ForwardProxy): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (stage === 'proxy' && proxy.url.protocol === 'https:' && code !== undefined && PLAIN_TEXT_TLS.has(code)) {
    return new TunnelError({ kind: 'not-tls' }, error);
  }
  if (code !== 'ECONNRESET') return error;
  // Node says ECONNRESET too when the tunnel ends during the handshake ("socket disconnected").
  return new TunnelError({ kind: stage === 'handshake' ? 'closed' : 'reset', stage }, error);
}

/**
 * undici's connector for an http origin behind a proxy (loopback only), asked for with absolute
 * URIs: the connection to the proxy alone, bounded by --timeout like a tunnel's first stage.
 */
export function forwardConnector(settings: Omit<TunnelSettings, 'target'>): buildConnector.connector {
  const { proxy, timeoutMs, watch } = settings;
  return (_options, callback) => {
    const socket = connectToProxy(proxy);
    const entry = watch.track();
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watch.done(entry);
      if (error === null) {
        callback(null, socket);
        return;
      }
      socket.on('error', () => undefined).destroy();
      callback(error, null);
    };
    const timer = setTimeout(() => finish(new TunnelError({ kind: 'timeout', stage: 'proxy', ms: timeoutMs })), timeoutMs);
    socket.on('error', (error) => finish(failureOf(error, 'proxy', proxy)));
    socket.once(proxy.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => finish(null));
    return socket;
  };
}
