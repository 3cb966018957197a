import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { followerInfo, generatedFollowers, type FollowerList } from './followers.js';
import { FakePlatform, type FakePlatformOptions } from './platform.js';

/** What the fake does instead of answering a call normally. */
export type Fault =
  | { kind: 'errcode'; errcode: number; errmsg?: string }
  | { kind: 'status'; status: number; body?: string }
  /** A 200 with this body as it is (bytes: a gzip body, say), and extra headers (a Content-Encoding not asked for). */
  | { kind: 'raw'; body: string | Buffer; contentType?: string; headers?: Record<string, string> }
  | { kind: 'reset' }
  /** The normal answer, after a pause (longer than the client's --timeout, say). */
  | { kind: 'slow'; delayMs: number }
  /** Half the normal answer, then the connection is cut. */
  | { kind: 'truncate' }
  /** The normal answer once `until` settles: a test decides when a call answers. */
  | { kind: 'hold'; until: Promise<unknown> }
  /** A 200 answer of `bytes` bytes (a JSON string that never seems to end), written as fast as it is read; `declared` sends its Content-Length. */
  | { kind: 'huge'; bytes: number; declared?: boolean };

export interface RecordedCall {
  /** 1-based, across all endpoints. */
  index: number;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The query as it came, to check what was and was not sent. */
  rawQuery: string;
  body: string;
  /** The connection closed before the answer was sent: the client aborted the call (or a 'reset' fault). */
  abandoned: boolean;
}

/** One account of a fake that serves several (`accounts`): its own credentials, followers and quota. */
export interface FakeAccount {
  appid: string;
  secret: string;
  /** A token the fake accepts as given for this account; stable_token issues others. */
  token?: string;
  followers: FollowerList;
  /** Follower-list calls a day for this account; past it, 45009. */
  dailyQuota?: number;
  /** stable_token refuses its AppSecret (40125), as after the secret was reset. */
  refused?: boolean;
  /** The account did not grant user management (an authorizer without function scope 2): user/get answers 48001. */
  withoutUserManagement?: boolean;
}

/** What the fake saw of one account of `accounts`. */
interface FakeAccountCounts {
  /** TCP connections that carried a call of this account. */
  connections: number;
  /** Calls of this account (stable_token included). */
  calls: number;
}

export interface FakeApiOptions {
  /**
   * Several accounts at once, each by its AppID (stable_token) and its tokens: the follower list
   * answers from the account a token belongs to. The single-account options stay as they are.
   */
  accounts?: readonly FakeAccount[];
  /**
   * A third-party platform (cgi-bin/component/...): its authorizers join `accounts`, each with its
   * followers, served to the authorizer tokens that api_authorizer_token issues (or its `token`).
   */
  platform?: FakePlatformOptions;
  followers?: FollowerList | number;
  /** OpenIDs a page of the follower list (the real API: 10,000). */
  pageSize?: number;
  /** The token the fake accepts as given (flag, env, config); it never expires. */
  token?: string;
  /** The account's AppID and AppSecret, for stable_token. */
  appid?: string;
  secret?: string;
  /** A token issued by stable_token expires (42001) after this many calls that carry it. */
  tokenLifetimeCalls?: number;
  /** The published example: the first page starts with an empty string. */
  emptyStringInFirstPage?: boolean;
  /** From this page on (0-based), hand back the cursor that was sent. */
  repeatCursorFromPage?: number;
  /**
   * The follower list's pages go round in a circle: page `from` (0-based) hands back the cursor
   * that page `to` handed back (A -> B -> A with from 2, to 0), its OpenIDs those of its own place.
   */
  cursorCycle?: { from: number; to: number };
  /**
   * Answers of a bad day: what the follower list answers instead of `normal` for page `pageIndex`
   * (0-based; the answer after the last page is the page past it), a string as the body's text;
   * undefined keeps the normal answer.
   */
  listAnswer?: (normal: Record<string, unknown>, pageIndex: number) => object | string | undefined;
  /** What stable_token answers instead of its normal `{access_token, expires_in}`. */
  stableTokenAnswer?: (normal: Record<string, unknown>) => object;
  /** What batchget answers instead of `normal` (`{user_info_list}`); undefined keeps it. */
  detailsAnswer?: (normal: { user_info_list: Record<string, unknown>[] }) => object | undefined;
  /** stable_token hands out one and the same string every time it issues a token, each issue a fresh lifetime. */
  sameTokenString?: boolean;
  /** Decides, for each call, whether it fails and how. */
  fault?: (call: RecordedCall) => Fault | undefined;
  /** Follower-list calls a day; past it, 45009 until `newDay()`. Short for `dailyQuotas['/cgi-bin/user/get']`. */
  dailyQuota?: number;
  /**
   * Calls a day of each path (`/cgi-bin/user/info/batchget`...); past it, 45009 until `newDay()`.
   * Unset, a path's calls are counted against its documented limit (what quota/get reports) but never refused.
   */
  dailyQuotas?: Readonly<Record<string, number>>;
  /**
   * The IP the fake "sees" off the account's whitelist: every call that carries the AppSecret or a
   * token is answered 40164 naming it, as the real API does.
   */
  notWhitelisted?: string;
  /** Extra headers on an HTTP error answer (Retry-After). */
  errorHeaders?: Record<string, string>;
  /** Render each page (and details answer) once and serve it from memory: for benchmarks, where the fake must not be what is measured. */
  cachePages?: boolean;
  /** The account's tags, each with its members (a part of the followers, so that batchget knows them). */
  tags?: readonly FakeTag[];
  /** The blacklist (a part of the followers). */
  blacklist?: FollowerList;
  /** OpenIDs a page of the blacklist (the documentation has said both 10,000 and 1,000). */
  blacklistPageSize?: number;
  /** batchget lists its answers in the reverse of the order asked: the order is not promised. */
  detailsReversed?: boolean;
  /** Every call is answered this long after it came (the benchmark of --with-info). */
  latencyMs?: number;
  /** An empty next_openid starts the list, as the real API mostly allows (the SDK of the benchmark sends one). */
  emptyCursorStarts?: boolean;
  /** Also listen with TLS on this key and certificate (the proxy tests' api.weixin.qq.com). */
  tls?: { key: string; cert: string };
}

interface FakeTag {
  id: number;
  name: string;
  members: FollowerList;
}

export interface FakeApi {
  readonly url: string;
  /** The TLS listener's port, when `tls` was given. */
  readonly tlsPort: number | undefined;
  readonly calls: RecordedCall[];
  readonly followers: FollowerList;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Bytes of 'huge' answers written so far: what the client let through before it stopped reading. */
  hugeBytesWritten(): number;
  /** Midnight in Beijing: the daily quota starts again. */
  newDay(): void;
  /** With `accounts`: what each account's calls came on, by AppID. */
  accountCounts(appid: string): FakeAccountCounts;
  /** With `accounts`: the most accounts that had a call in flight at one moment. */
  peakAccountsInFlight(): number;
  close(): Promise<void>;
}

export const FAKE_TOKEN = 'FAKE_TOKEN_valid_0123456789';
export const FAKE_APPID = 'wxfa4e0123456789ab';
export const FAKE_SECRET = 'FAKE_SECRET_0f1e2d3c4b5a69788796a5b4c3d2e1f0';

export async function startFakeApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  const followers =
    typeof options.followers === 'number' || options.followers === undefined
      ? generatedFollowers(options.followers ?? 0)
      : options.followers;
  const pageSize = options.pageSize ?? 10_000;
  const token = options.token ?? FAKE_TOKEN;
  const appid = options.appid ?? FAKE_APPID;
  const secret = options.secret ?? FAKE_SECRET;
  const lifetime = options.tokenLifetimeCalls ?? Number.POSITIVE_INFINITY;
  /** Calls made so far with each token that stable_token issued. */
  const issued = new Map<string, number>();
  let stableToken: string | undefined;
  const calls: RecordedCall[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  /** Calls of each path since the last `newDay()`: what quota/get reports as `used`. */
  const used = new Map<string, number>();
  let hugeBytes = 0;
  const several = new SeveralAccounts([...(options.accounts ?? []), ...authorizerAccounts(options.platform)]);
  const platform =
    options.platform === undefined
      ? undefined
      : new FakePlatform(options.platform, apiError, (issued, owner, lifetimeCalls) => several.accept(issued, owner, lifetimeCalls));

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    // The latency runs from the request's arrival, so that reading its body is not added to it.
    const answerAt = performance.now() + (options.latencyMs ?? 0);
    void readBody(request).then(async (body) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const call: RecordedCall = {
        index: calls.length + 1,
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        rawQuery: url.search.slice(1),
        body,
        abandoned: false,
      };
      // Recorded as it comes, so that a call the client gives up on during the latency counts.
      calls.push(call);
      const leave = several.enter(call, request.socket);
      response.on('close', () => {
        leave();
        if (!response.writableFinished) call.abandoned = true;
      });
      if (options.latencyMs !== undefined) await delay(Math.max(0, answerAt - performance.now()));
      if (call.abandoned) return;
      const fault = options.fault?.(call);
      if (fault === undefined) {
        answer(response, route(call));
      } else if (fault.kind === 'slow') {
        const body = route(call);
        const timer = setTimeout(() => answer(response, body), fault.delayMs);
        response.on('close', () => clearTimeout(timer));
      } else if (fault.kind === 'hold') {
        const body = route(call);
        void fault.until.finally(() => answer(response, body));
      } else if (fault.kind === 'huge') {
        void writeHuge(response, fault);
      } else if (fault.kind === 'truncate') {
        const routed = route(call);
        const text = typeof routed === 'string' ? routed : JSON.stringify(routed);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        response.write(text.slice(0, Math.floor(text.length / 2)), () => response.socket?.destroy());
      } else {
        answerFault(response, fault, options.errorHeaders ?? {});
      }
    });
  };
  const server = createServer(handle);
  const tlsServer = options.tls === undefined ? undefined : createTlsServer(options.tls, handle);
  for (const listening of [server, tlsServer]) {
    listening?.on('connection', (socket: Socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }

  function route(call: RecordedCall): object | string {
    if (platform !== undefined && FakePlatform.serves(call.path)) return platform.route(call);
    // A platform alone keeps the single account as it was: only its authorizers' tokens go to their accounts.
    if ((options.accounts?.length ?? 0) > 0 || several.owns(call)) return several.route(call, pageSize, renderPage);
    if (options.notWhitelisted !== undefined && call.path !== '/cgi-bin/token') {
      const ip = options.notWhitelisted;
      return apiError(40164, `invalid ip ${ip} ipv6 ::ffff:${ip}, not in whitelist`);
    }
    if (call.path === '/cgi-bin/stable_token') return spend(call.path) ?? issueStableToken(call);
    if (call.path === '/cgi-bin/get_api_domain_ip') {
      if (call.method !== 'GET') return apiError(43001, 'require GET method');
      return checkToken(call) ?? spend(call.path) ?? { ip_list: ['101.226.103.0/25', '101.226.233.128/25', '58.247.206.128/25'] };
    }
    if (call.path === '/cgi-bin/openapi/quota/get') {
      if (call.method !== 'POST') return apiError(43002, 'require POST method');
      return checkToken(call) ?? quotaOf(jsonBody(call)?.['cgi_path']);
    }
    if (call.path === '/cgi-bin/token') {
      // The legacy endpoint: counted by the tests, which prove it is never called.
      return { access_token: newToken('LEGACY'), expires_in: 7200 };
    }
    if (call.path === '/cgi-bin/user/get') {
      if (call.method !== 'GET') return apiError(43001, 'require GET method');
      const refused = checkToken(call);
      if (refused !== undefined) return refused;
      return spend(call.path) ?? followerPage(call);
    }
    if (call.path === '/cgi-bin/tags/get') {
      if (call.method !== 'GET') return apiError(43001, 'require GET method');
      return (
        checkToken(call) ??
        spend(call.path) ?? {
          tags: (options.tags ?? []).map((tag) => ({ id: tag.id, name: tag.name, count: tag.members.size })),
        }
      );
    }
    if (call.path === '/cgi-bin/user/tag/get') {
      if (call.method !== 'POST') return apiError(43002, 'require POST method');
      const refused = checkToken(call);
      if (refused !== undefined) return refused;
      const spent = spend(call.path);
      if (spent !== undefined) return spent;
      const body = jsonBody(call);
      const tag = options.tags?.find((each) => each.id === body?.['tagid']);
      if (tag === undefined) return apiError(45159, 'invalid tag id');
      const cursor = body?.['next_openid'];
      // Its answers carry no total.
      return renderPage(tag.members, typeof cursor === 'string' && cursor !== '' ? cursor : null, pageSize, false);
    }
    if (call.path === '/cgi-bin/tags/members/getblacklist') {
      if (call.method !== 'POST') return apiError(43002, 'require POST method');
      const refused = checkToken(call);
      if (refused !== undefined) return refused;
      const spent = spend(call.path);
      if (spent !== undefined) return spent;
      const cursor = jsonBody(call)?.['begin_openid'];
      const list = options.blacklist ?? generatedFollowers(0);
      return renderPage(list, typeof cursor === 'string' && cursor !== '' ? cursor : null, options.blacklistPageSize ?? 1_000, true);
    }
    if (call.path === '/cgi-bin/user/info/batchget') {
      if (call.method !== 'POST') return apiError(43002, 'require POST method');
      return checkToken(call) ?? spend(call.path) ?? cachedDetails(call);
    }
    return apiError(48001, `api unauthorized: ${call.path}`);
  }

  /** A path's daily limit: as configured, else as documented (shared/wechat-api.md). */
  function dailyLimitOf(path: string): number {
    const configured = path === '/cgi-bin/user/get' ? options.dailyQuota : undefined;
    return configured ?? options.dailyQuotas?.[path] ?? DOCUMENTED_DAILY_LIMITS[path] ?? 10_000;
  }

  /** Counts a call of `path`, or answers 45009 when a configured daily quota is spent. */
  function spend(path: string): object | undefined {
    const calls = used.get(path) ?? 0;
    const enforced = (path === '/cgi-bin/user/get' ? options.dailyQuota : undefined) ?? options.dailyQuotas?.[path];
    if (enforced !== undefined && calls >= enforced) return apiError(45009, 'reach max api daily quota limit');
    used.set(path, calls + 1);
    return undefined;
  }

  /** quota/get: what was really called of that path since the last `newDay()`. */
  function quotaOf(path: unknown): object {
    if (typeof path !== 'string' || !path.startsWith('/cgi-bin/')) return apiError(76021, 'cgi_path not found, please check');
    const dailyLimit = dailyLimitOf(path);
    const calls = used.get(path) ?? 0;
    return { errcode: 0, errmsg: 'ok', quota: { daily_limit: dailyLimit, used: calls, remain: Math.max(0, dailyLimit - calls) } };
  }

  const cachedAnswers = new Map<string, string>();

  function cachedDetails(call: RecordedCall): object | string {
    if (options.cachePages !== true) return details(call);
    let answer = cachedAnswers.get(call.body);
    if (answer === undefined) {
      answer = JSON.stringify(details(call));
      cachedAnswers.set(call.body, answer);
    }
    return answer;
  }

  function details(call: RecordedCall): object {
    let asked: unknown;
    try {
      asked = (JSON.parse(call.body) as Record<string, unknown>)['user_list'];
    } catch {
      return apiError(47001, 'data format error');
    }
    if (!Array.isArray(asked) || asked.length === 0) return apiError(47001, 'data format error');
    if (asked.length > 100) return apiError(40032, 'invalid openid list size, at most 100');
    const infos: Record<string, unknown>[] = [];
    for (const entry of asked as { openid?: unknown; lang?: unknown }[]) {
      if (typeof entry.openid !== 'string') return apiError(47001, 'data format error');
      if (entry.lang !== undefined && !['zh_CN', 'zh_TW', 'en'].includes(String(entry.lang))) {
        return apiError(40005, 'invalid lang');
      }
      const index = followers.indexOf(entry.openid);
      if (index < 0) return apiError(40003, `invalid openid ${entry.openid}`);
      infos.push(followerInfo(entry.openid, index));
    }
    const normal = { user_info_list: options.detailsReversed === true ? infos.reverse() : infos };
    return options.detailsAnswer?.(normal) ?? normal;
  }

  async function writeHuge(response: ServerResponse, fault: { bytes: number; declared?: boolean }): Promise<void> {
    response.writeHead(200, {
      'content-type': 'application/json',
      ...(fault.declared === true ? { 'content-length': String(fault.bytes) } : {}),
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let left = fault.bytes;
    const head = Buffer.from('{"errmsg":"');
    response.write(head);
    left -= head.length;
    while (left > 0 && !response.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      hugeBytes += piece.length;
      // Written no faster than it is read, so that the count shows where the client stopped.
      if (!response.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            response.off('drain', done);
            response.off('close', done);
            resolve();
          };
          response.on('drain', done);
          response.on('close', done);
        });
      }
    }
    if (!response.destroyed) response.end();
  }

  function newToken(kind: string): string {
    if (options.sameTokenString === true && kind === 'STABLE') {
      const value = `FAKE_${kind}_TOKEN_SAME_${'x'.repeat(100)}`;
      issued.set(value, 0);
      return value;
    }
    const value = `FAKE_${kind}_TOKEN_${issued.size + 1}_${'x'.repeat(100)}`;
    issued.set(value, 0);
    return value;
  }

  function isLive(value: string): boolean {
    const uses = issued.get(value);
    return uses !== undefined && uses < lifetime;
  }

  function issueStableToken(call: RecordedCall): object {
    if (call.method !== 'POST') return apiError(43002, 'require POST method');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(call.body) as Record<string, unknown>;
    } catch {
      return apiError(47001, 'data format error');
    }
    if (body['grant_type'] !== 'client_credential') return apiError(40002, 'invalid grant_type');
    if (body['appid'] !== appid) return apiError(40013, 'invalid appid');
    if (body['secret'] !== secret) return apiError(40125, 'invalid appsecret');
    // Normal mode hands back the current token while it lives; force_refresh replaces it.
    if (body['force_refresh'] === true || stableToken === undefined || !isLive(stableToken)) {
      stableToken = newToken('STABLE');
    }
    const normal = { access_token: stableToken, expires_in: 7200 };
    return options.stableTokenAnswer?.(normal) ?? normal;
  }

  function checkToken(call: RecordedCall): object | undefined {
    const given = call.query.get('access_token');
    if (given === null || given === '') return apiError(41001, 'access_token missing');
    if (given === token) return undefined;
    const uses = issued.get(given);
    if (uses === undefined) return apiError(40001, 'invalid credential, access_token is invalid or not latest');
    if (uses >= lifetime) return apiError(42001, 'access_token expired');
    issued.set(given, uses + 1);
    return undefined;
  }

  const cachedPages = new Map<string | null, string>();

  function followerPage(call: RecordedCall): object | string {
    const sent = call.query.get('next_openid');
    const cursor = sent === '' && options.emptyCursorStarts === true ? null : sent;
    if (options.cachePages !== true) {
      const normal = renderPage(followers, cursor, pageSize, true) as Record<string, unknown>;
      if (options.listAnswer === undefined || normal['errcode'] !== undefined) return normal;
      const start = cursor === null ? 0 : followers.indexOf(cursor) + 1;
      return options.listAnswer(normal, Math.floor(start / pageSize)) ?? normal;
    }
    let page = cachedPages.get(cursor);
    if (page === undefined) {
      page = JSON.stringify(renderPage(followers, cursor, pageSize, true));
      cachedPages.set(cursor, page);
    }
    return page;
  }

  function jsonBody(call: RecordedCall): Record<string, unknown> | undefined {
    try {
      return JSON.parse(call.body) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** A page of a list after `cursor`, with the real API's quirks. */
  function renderPage(list: FollowerList, cursor: string | null, size: number, withTotal: boolean): object {
    const total = withTotal ? { total: list.size } : {};
    let start = 0;
    if (cursor !== null) {
      // The real API has answered an empty or 'undefined' next_openid with 40003.
      const position = list.indexOf(cursor);
      if (position < 0) return apiError(40003, 'invalid openid');
      start = position + 1;
    }
    const pageIndex = Math.floor(start / size);
    if (start >= list.size) return { ...total, count: 0, next_openid: '' };
    const cycle = options.cursorCycle;
    if (cycle !== undefined && pageIndex === cycle.from) {
      // The cursor handed back by page `to`: the last OpenID of that page.
      const end = Math.min((cycle.to + 1) * size, list.size);
      const openids = Array.from({ length: Math.min(size, list.size - start) }, (_, index) => list.at(start + index));
      return { ...total, count: openids.length, data: { openid: openids }, next_openid: list.at(end - 1) };
    }
    const end = Math.min(start + size, list.size);
    const openids: string[] = [];
    for (let index = start; index < end; index += 1) openids.push(list.at(index));
    if (options.emptyStringInFirstPage === true && start === 0) openids.unshift('');
    const last = list.at(end - 1);
    const repeat = options.repeatCursorFromPage !== undefined && pageIndex >= options.repeatCursorFromPage;
    return {
      ...total,
      count: end - start,
      data: { openid: openids },
      next_openid: repeat && cursor !== null ? cursor : last,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  if (tlsServer !== undefined) await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    tlsPort: tlsServer === undefined ? undefined : (tlsServer.address() as AddressInfo).port,
    calls,
    followers,
    connections: () => connections,
    hugeBytesWritten: () => hugeBytes,
    newDay: () => {
      used.clear();
      several.newDay();
    },
    accountCounts: (appid) => several.counts(appid),
    peakAccountsInFlight: () => several.peak,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        [server, tlsServer].map(
          (listening) => new Promise<void>((resolve) => (listening === undefined ? resolve() : listening.close(() => resolve()))),
        ),
      );
    },
  };
}

/** The daily limits the documentation gives (shared/wechat-api.md), in calls. */
const DOCUMENTED_DAILY_LIMITS: Readonly<Record<string, number>> = {
  '/cgi-bin/user/get': 500,
  '/cgi-bin/user/info/batchget': 5_000_000,
  '/cgi-bin/stable_token': 2_000,
};

function apiError(errcode: number, errmsg: string): object {
  return { errcode, errmsg: `${errmsg} rid: 6543210f-0a1b2c3d-${errcode}` };
}

/** A string is an answer rendered already (a cached page). */
function answer(response: ServerResponse, body: object | string): void {
  // The real API's Content-Type is unreliable; the client must not depend on it.
  response.writeHead(200, { 'content-type': 'application/json; encoding=utf-8' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function answerFault(
  response: ServerResponse,
  fault: Exclude<Fault, { kind: 'slow' } | { kind: 'truncate' } | { kind: 'hold' } | { kind: 'huge' }>,
  errorHeaders: Record<string, string>,
): void {
  switch (fault.kind) {
    case 'errcode':
      answer(response, apiError(fault.errcode, fault.errmsg ?? 'fault'));
      return;
    case 'status':
      response.writeHead(fault.status, { 'content-type': 'text/html', ...errorHeaders });
      response.end(fault.body ?? '<html>error</html>');
      return;
    case 'raw':
      response.writeHead(200, { 'content-type': fault.contentType ?? 'text/plain', ...fault.headers });
      response.end(fault.body);
      return;
    case 'reset':
      response.socket?.destroy();
      return;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type PageRenderer = (list: FollowerList, cursor: string | null, size: number, withTotal: boolean) => object;

interface AccountState {
  account: FakeAccount;
  quotaUsed: number;
  sockets: Set<Socket>;
  calls: number;
  inFlight: number;
}

/**
 * The fake's `accounts`: each call is put down to the account whose AppID (stable_token) or
 * token (every other call) it carries; the follower list answers from that account's list.
 */
class SeveralAccounts {
  readonly #accounts: Map<string, AccountState>;
  /** Every token issued or accepted, to its account's AppID. */
  readonly #tokens = new Map<string, string>();
  /** Follower-list calls left to a token that expires (the platform's, with a lifetime). */
  readonly #usesLeft = new Map<string, number>();
  #issued = 0;
  peak = 0;

  constructor(accounts: readonly FakeAccount[]) {
    this.#accounts = new Map(
      accounts.map((account) => [account.appid, { account, quotaUsed: 0, sockets: new Set(), calls: 0, inFlight: 0 }]),
    );
    for (const { appid, token } of accounts) if (token !== undefined) this.#tokens.set(token, appid);
  }

  /** Whether the call carries a token of one of the accounts (or stable_token asks for one of theirs). */
  owns(call: RecordedCall): boolean {
    return this.#stateOf(call) !== undefined;
  }

  /** Counts the call against its account until its answer is done; gives back the leaving. */
  enter(call: RecordedCall, socket: Socket): () => void {
    const state = this.#stateOf(call);
    if (state === undefined) return () => undefined;
    state.calls += 1;
    state.sockets.add(socket);
    state.inFlight += 1;
    this.peak = Math.max(this.peak, [...this.#accounts.values()].filter((each) => each.inFlight > 0).length);
    let left = false;
    return () => {
      if (!left) state.inFlight -= 1;
      left = true;
    };
  }

  route(call: RecordedCall, pageSize: number, renderPage: PageRenderer): object {
    if (call.path === '/cgi-bin/stable_token') return this.#issue(call);
    const state = this.#stateOf(call);
    if (state === undefined) return apiError(40001, 'invalid credential, access_token is invalid or not latest');
    if (call.path !== '/cgi-bin/user/get' || state.account.withoutUserManagement === true) {
      return apiError(48001, `api unauthorized: ${call.path}`);
    }
    const token = call.query.get('access_token') ?? '';
    const usesLeft = this.#usesLeft.get(token);
    if (usesLeft !== undefined) {
      if (usesLeft <= 0) return apiError(42001, 'access_token expired');
      this.#usesLeft.set(token, usesLeft - 1);
    }
    const { dailyQuota } = state.account;
    if (dailyQuota !== undefined) {
      if (state.quotaUsed >= dailyQuota) return apiError(45009, 'reach max api daily quota limit');
      state.quotaUsed += 1;
    }
    const cursor = call.query.get('next_openid');
    return renderPage(state.account.followers, cursor === null || cursor === '' ? null : cursor, pageSize, true);
  }

  /** A token issued elsewhere (the platform's authorizer tokens) for the account of `appid`. */
  accept(token: string, appid: string, lifetimeCalls?: number): void {
    this.#tokens.set(token, appid);
    if (lifetimeCalls !== undefined) this.#usesLeft.set(token, lifetimeCalls);
  }

  counts(appid: string): FakeAccountCounts {
    const state = this.#accounts.get(appid);
    return { connections: state?.sockets.size ?? 0, calls: state?.calls ?? 0 };
  }

  newDay(): void {
    for (const state of this.#accounts.values()) state.quotaUsed = 0;
  }

  #issue(call: RecordedCall): object {
    const body = parsedBody(call.body);
    const state = this.#accounts.get(String(body?.['appid']));
    if (state === undefined) return apiError(40013, 'invalid appid');
    if (body?.['secret'] !== state.account.secret || state.account.refused === true) return apiError(40125, 'invalid appsecret');
    this.#issued += 1;
    const token = `FAKE_STABLE_TOKEN_${state.account.appid}_${this.#issued}_${'x'.repeat(60)}`;
    this.#tokens.set(token, state.account.appid);
    return { access_token: token, expires_in: 7200 };
  }

  #stateOf(call: RecordedCall): AccountState | undefined {
    if (call.path === '/cgi-bin/stable_token') return this.#accounts.get(String(parsedBody(call.body)?.['appid']));
    const appid = this.#tokens.get(call.query.get('access_token') ?? '');
    return appid === undefined ? undefined : this.#accounts.get(appid);
  }
}

function parsedBody(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The platform's authorizers as accounts of their own: no AppSecret anyone knows, their followers, their scope. */
function authorizerAccounts(platform: FakePlatformOptions | undefined): FakeAccount[] {
  return (platform?.authorizers ?? []).map((authorizer) => ({
    appid: authorizer.appid,
    secret: `NO_SECRET_OF_AN_AUTHORIZER_${authorizer.appid}`,
    ...(authorizer.token === undefined ? {} : { token: authorizer.token }),
    followers: authorizer.followers ?? generatedFollowers(0),
    withoutUserManagement: !(authorizer.funcScopes ?? [2]).includes(2),
  }));
}
