import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';
import type { ForwardProxy } from './proxy.js';

export interface Pooling {
  connections: number;
  keepAliveTimeout: number;
}

/**
 * undici's ProxyAgent, loaded only when a proxy is used (a run without one keeps the pool's
 * quicker start-up). https origins go through a CONNECT tunnel, one for each connection of the
 * pool behind it, so that a list walk is one tunnel and --with-info at most --concurrency;
 * certificates are checked at the end of the tunnel as without a proxy. An http origin (loopback
 * only) is asked for with its absolute URI, as curl does.
 */
export function openProxyAgent(origin: URL, proxy: ForwardProxy, pooling: Pooling): Dispatcher {
  // The whole index, not lib/dispatcher/proxy-agent.js alone: the agent opens its tunnels with the
  // connect() that the index adds to every dispatcher. A run through a proxy pays its ~40 ms.
  const { ProxyAgent } = createRequire(import.meta.url)('undici') as typeof import('undici');
  return new ProxyAgent({
    uri: proxy.url.href,
    ...(proxy.authorization === undefined ? {} : { token: proxy.authorization }),
    proxyTunnel: origin.protocol === 'https:',
    ...pooling,
  });
}
