import type { Dispatcher, Pool } from 'undici';
import type { ForwardProxy } from './proxy.js';
import { TunnelWatch, forwardConnector, tunnelConnector } from './tunnel.js';

export interface Pooling {
  connections: number;
  keepAliveTimeout: number;
}

/** How the calls reach the API through a forward proxy. */
export interface ProxyTransport {
  dispatcher: Dispatcher;
  /**
   * An http origin (loopback only): each request goes to the proxy with the API's absolute URI,
   * as curl does, and the proxy may answer it itself (407, a 502 of its own).
   */
  forward: boolean;
  /** The tunnels (or connections to the proxy) being opened, and where each stands. */
  watch: TunnelWatch;
}

/**
 * An undici pool whose connections are opened by our own connector rather than undici's
 * ProxyAgent: https origins through a CONNECT tunnel, one for each connection of the pool, so
 * that a list walk is one tunnel and --with-info at most --concurrency, with the certificate
 * checked at the end of the tunnel as without a proxy. Each connection is one attempt, each of
 * its stages bounded by --timeout, and none is tried again behind the client's back.
 */
export function openProxyTransport(
  PoolClass: typeof Pool,
  origin: URL,
  proxy: ForwardProxy,
  pooling: Pooling,
  timeoutMs: number,
): ProxyTransport {
  const watch = new TunnelWatch();
  if (origin.protocol === 'https:') {
    const connect = tunnelConnector({ proxy, target: origin, timeoutMs, watch });
    return { dispatcher: new PoolClass(origin.origin, { ...pooling, connect }), forward: false, watch };
  }
  const connect = forwardConnector({ proxy, timeoutMs, watch });
  return { dispatcher: new PoolClass(proxy.url.origin, { ...pooling, connect }), forward: true, watch };
}
