import { createServer, request as httpRequest, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

export interface ProxyOptions {
  /** Where a CONNECT target or an absolute URI's host:port really is (how api.weixin.qq.com:443 is reached without DNS). */
  routes?: Readonly<Record<string, string>>;
  /** Demands Proxy-Authorization: Basic with these. */
  user?: string;
  password?: string;
  /** Answers every CONNECT with this status instead of opening the tunnel (a proxy's ACL). */
  refuseStatus?: number;
  /** Listen with TLS (an https:// proxy) on this key and certificate. */
  tls?: { key: string; cert: string };
  /**
   * What a broken proxy does with each CONNECT instead of answering it: closes the connection
   * (its upstream is unreachable), resets it, never answers, or answers with bytes that are not
   * HTTP.
   */
  misbehave?: Misbehaviour;
}

export type Misbehaviour = 'close' | 'reset' | 'stall' | 'garble';

export interface TestProxy {
  readonly url: string;
  readonly port: number;
  /** The request line of each CONNECT, as the proxy saw it. */
  readonly connects: string[];
  /** The request line of each plain (absolute-URI) request. */
  readonly forwarded: string[];
  close(): Promise<void>;
}

/**
 * A small forward proxy, as squid or tinyproxy would be on the whitelisted server: CONNECT for
 * https origins, absolute-URI requests for http ones, and Basic authentication when asked.
 */
export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const connects: string[] = [];
  const forwarded: string[] = [];
  const sockets = new Set<Socket>();
  const route = (hostPort: string): { host: string; port: number } | undefined => {
    const target = options.routes?.[hostPort] ?? hostPort;
    const match = /^(.+):(\d+)$/.exec(target);
    if (match?.[1] === undefined || match[2] === undefined) return undefined;
    // Nothing leaves the machine: only loopback targets are reached.
    if (match[1] !== '127.0.0.1' && match[1] !== 'localhost') return undefined;
    return { host: match[1], port: Number(match[2]) };
  };
  const authorized = (request: IncomingMessage): boolean => {
    if (options.user === undefined) return true;
    const expected = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
    return request.headers['proxy-authorization'] === expected;
  };
  const AUTHENTICATE = 'Proxy-Authenticate: Basic realm="test proxy"';

  const handle: RequestListener = (request, response) => {
    forwarded.push(`${request.method} ${request.url} HTTP/${request.httpVersion}`);
    if (!authorized(request)) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"' });
      response.end();
      return;
    }
    let url: URL;
    try {
      url = new URL(request.url ?? '');
    } catch {
      response.writeHead(400);
      response.end();
      return;
    }
    const target = route(`${url.hostname}:${url.port || '80'}`);
    if (target === undefined) {
      response.writeHead(502);
      response.end();
      return;
    }
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest({ ...target, method: request.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      // As every proxy marks the answers it forwards (RFC 9110): its own answers have no Via.
      response.writeHead(answer.statusCode ?? 502, { ...answer.headers, via: '1.1 test-proxy' });
      answer.pipe(response);
    });
    upstream.on('error', () => {
      if (response.headersSent) response.destroy();
      else response.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    });
    request.pipe(upstream);
  };
  const server = options.tls === undefined ? createServer(handle) : createTlsServer(options.tls, handle);
  server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    connects.push(`CONNECT ${request.url} HTTP/${request.httpVersion}`);
    client.on('error', () => undefined);
    if (!authorized(request)) {
      client.end(`HTTP/1.1 407 Proxy Authentication Required\r\n${AUTHENTICATE}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (options.misbehave !== undefined) {
      misbehave(client, options.misbehave);
      return;
    }
    if (options.refuseStatus !== undefined) {
      client.end(`HTTP/1.1 ${options.refuseStatus} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const target = route(request.url ?? '');
    if (target === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(target.port, target.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: options.tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`,
    port,
    connects,
    forwarded,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function misbehave(client: Socket, how: Misbehaviour): void {
  if (how === 'close') client.end();
  else if (how === 'reset') client.resetAndDestroy();
  else if (how === 'garble') client.end('SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001\r\n\r\n');
  // 'stall': the connection is held open, unanswered, until the proxy closes.
}

/** A TCP server that accepts and never says a word: an HTTPS origin whose TLS handshake never completes. */
export async function startSilentServer(): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
