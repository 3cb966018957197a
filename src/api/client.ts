import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Pool } from 'undici';
import { ExitCode, WxError, type RetryHint, counted } from '../errors.js';
import type { ForwardProxy } from './proxy.js';
import { connectionFailure, proxyRefusal, throughProxy } from './connection-errors.js';
import { parseAnswer, type JsonObject } from './answers.js';
import { isTokenRefusal } from './errcodes.js';
import { openProxyTransport, type ProxyTransport } from './proxy-transport.js';
import { TunnelError, type TunnelStage } from './tunnel.js';

export interface ApiRequest {
  method: 'GET' | 'POST';
  /** Path below the API origin, e.g. `/cgi-bin/user/get`. */
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  /** Not one of the calls `maxCalls` counts: only the quota look-up behind a terminal's estimate. */
  uncounted?: boolean;
  /** The query parameter the token travels in: `access_token` (the default), or the platform's `component_access_token`. */
  tokenParameter?: TokenParameter;
}

type TokenParameter = 'access_token' | 'component_access_token';

/**
 * The run's --max-calls are spent: the next request was not sent. Not a failure (exit 0): the
 * export stops there as at --limit, cursor named and state saved.
 */
export class CallBudgetSpent extends WxError {
  readonly maxCalls: number;

  constructor(maxCalls: number) {
    super(`The run's ${counted(maxCalls, 'API call')} (--max-calls) are made.`, ExitCode.Ok);
    this.maxCalls = maxCalls;
  }
}

/**
 * An endpoint's reading of its answer (a JSON object without a non-zero errcode): what the caller
 * needs, or the WxError of an answer without that shape. Run on every attempt, so that an error
 * with a retry hint (a page that lost its cursor) is retried like a network error.
 */
export type ParseAnswer<Result> = (answer: JsonObject) => Result;

/** A token and its generation: each renewal makes a new one, whatever string the API hands back. */
export interface HeldToken {
  readonly value: string;
  readonly generation: number;
}

/** Where the client gets the access token, and a new one when the API refuses it. */
export interface TokenSource {
  token(): Promise<HeldToken>;
  /**
   * A token to use instead of `refused`: the one another call renewed since, or a new one (calls
   * refused together share it), or the WxError to stop with.
   */
  renew(refused: HeldToken, refusal: WxError): Promise<HeldToken>;
  /** Whether a newer token than `held` has been had since. */
  isSuperseded(held: HeldToken): boolean;
  /**
   * `held`, just renewed, was refused at once and the call stops: it is not to be kept for a
   * later run to start with.
   */
  discard(held: HeldToken): Promise<void>;
  /** What a call stops with when the token just renewed for it is refused too (exit 3). */
  refusedAfterRenewal(refusal: WxError): WxError;
}

/**
 * The most an answer may weigh. The largest real ones, a page of 10,000 OpenIDs, weigh about
 * 300 KB; anything near this is not an answer of the API, and is not read into memory whole.
 */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Renewals one call may go through when other calls keep renewing under it; one is the rule. */
const MAX_RENEWALS_A_CALL = 4;

/** The longest a timer can wait: Node fires a longer one at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RetryPolicy {
  /** Retries of one request after its first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Multiplies every wait: 1 for real use; tests shrink it so that a chaos run takes seconds. */
  delayScale: number;
  random: () => number;
  now: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  delayScale: 1,
  random: Math.random,
  now: Date.now,
};

/** Told before each wait (its length unscaled), so that the progress display can say why it stands still. */
export type WaitListener = (reason: string, waitMs: number) => void;

export interface ApiClientOptions {
  baseUrl: URL;
  timeoutMs: number;
  tokens: TokenSource;
  userAgent: string;
  retry?: RetryPolicy;
  onWait?: WaitListener;
  /** Calls in flight at once; the list is walked one call at a time. */
  connections?: number;
  /** Aborts whatever request is in flight (Ctrl-C, a reader that went away). */
  signal?: AbortSignal;
  /** The forward proxy the calls go through, if any. */
  proxy?: ForwardProxy;
  /**
   * Requests the run may send (--max-calls), whatever their API: pages, details, stable_token,
   * retries. The next one is not sent: CallBudgetSpent, or the failure a retry was for.
   */
  maxCalls?: number;
  /** The account is run through a third-party platform: its errcodes are told as the platform's (errorForErrcode). */
  throughPlatform?: boolean;
}

export type { JsonObject } from './answers.js';

type RequestFunction = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

export interface UndiciParts {
  Pool: typeof Pool;
  request: RequestFunction;
}

/**
 * undici's index also loads fetch, WebSocket, the caches and the mocks: about 40 ms of every
 * start-up, for a client that needs the pool and `request` alone. Should undici ever move those
 * files, the whole index still works.
 */
export function loadUndici(): UndiciParts {
  // undici parses HTTP with a WebAssembly build of llhttp. V8 would optimize it again on
  // background threads, and a process that ends soon after waits for that at exit (~40 ms a run,
  // a whole small export's worth); the baseline code parses these answers just as fast.
  setFlagsFromString('--liftoff-only');
  const load = createRequire(import.meta.url);
  try {
    return {
      Pool: load('undici/lib/dispatcher/pool.js') as typeof Pool,
      request: load('undici/lib/api/api-request.js') as RequestFunction,
    };
  } catch {
    const undici = load('undici') as typeof import('undici');
    return { Pool: undici.Pool, request: undici.Pool.prototype.request as RequestFunction };
  }
}

/**
 * The only module that speaks HTTP. It owns the connection pool, the token in the URL, the
 * errcode convention of the API, and turns every failure into a WxError.
 */
export class ApiClient {
  readonly #pool: Dispatcher;
  readonly #proxied: ProxyTransport | undefined;
  readonly #request: RequestFunction;
  readonly #basePath: string;
  readonly #options: ApiClientOptions;
  /** Requests sent so far that count against maxCalls. */
  #callsMade = 0;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    // Sized to the calls in flight: a larger pool hands calls made one after the other to a
    // second connection, because the first is not yet free when its body has been read.
    const undici = loadUndici();
    const pooling = { connections: options.connections ?? 1, keepAliveTimeout: 30_000 };
    this.#proxied =
      options.proxy === undefined ? undefined : openProxyTransport(undici.Pool, options.baseUrl, options.proxy, pooling, options.timeoutMs);
    this.#pool = this.#proxied?.dispatcher ?? new undici.Pool(options.baseUrl.origin, pooling);
    this.#request = undici.request;
    this.#basePath = options.baseUrl.pathname.replace(/\/+$/, '');
  }

  get origin(): string {
    return this.#options.baseUrl.origin;
  }

  /** Requests sent so far that count against --max-calls. */
  get callsMade(): number {
    return this.#callsMade;
  }

  /**
   * A call that carries the access token in its query, as every call of the API does. A refused
   * token is renewed, every time it is refused, and the same request repeated, so that nothing is
   * lost or written twice. What ends the renewals is the request: one whose renewed token is
   * refused at once (and that no other call has renewed since) stops.
   */
  async call<Result>(request: ApiRequest, parse: ParseAnswer<Result>, signal?: AbortSignal): Promise<Result> {
    const { tokens } = this.#options;
    let held = await tokens.token();
    for (let renewals = 0; ; renewals += 1) {
      try {
        return await this.send(withToken(request, held.value), parse, signal);
      } catch (refusal) {
        if (!(refusal instanceof WxError) || !isTokenRefusal(refusal.errcode)) throw refusal;
        if (renewals > 0 && (!tokens.isSuperseded(held) || renewals >= MAX_RENEWALS_A_CALL)) {
          // Best effort: the refusal is what the person must hear, whatever the cache does.
          await tokens.discard(held).catch(() => undefined);
          throw tokens.refusedAfterRenewal(refusal);
        }
        held = await tokens.renew(held, refusal);
      }
    }
  }

  /**
   * One request, repeated from the same cursor while its failure is transient and retries are
   * left; the answer is what `parse` reads in a JSON object without a non-zero errcode, or a WxError. `signal` ends
   * this request alone (the other calls of a batch failed); the run's own signal ends them all.
   */
  async send<Result>(request: ApiRequest, parse: ParseAnswer<Result>, signal?: AbortSignal): Promise<Result> {
    const policy = this.#options.retry ?? DEFAULT_RETRY_POLICY;
    const signals = [this.#options.signal, signal].filter((each): each is AbortSignal => each !== undefined);
    for (let attempt = 0; ; attempt += 1) {
      this.#countCall(request);
      try {
        return parse(await this.#attempt(request, signals));
      } catch (error) {
        if (!(error instanceof WxError) || error.retry === undefined) throw error;
        if (this.#budgetSpent(request)) {
          // The failure is what stopped the run, not the budget: its own exit code, and a note why it was not retried.
          throw new WxError(
            `${error.message} (Not retried: the ${counted(this.#options.maxCalls ?? 0, 'call')} of --max-calls are made.)`,
            error.exitCode,
            {
              errcode: error.errcode,
              errmsg: error.errmsg,
              cause: error,
            },
          );
        }
        if (attempt >= policy.retries) {
          throw new WxError(`${error.message} (Gave up after ${counted(policy.retries, 'retry', 'retries')}.)`, error.exitCode, {
            errcode: error.errcode,
            errmsg: error.errmsg,
            cause: error,
          });
        }
        const waitMs = retryDelay(error.retry, attempt, policy);
        this.#options.onWait?.(waitReason(error), waitMs);
        // Waits are rare: a signal combined for one costs nothing that adds up.
        await sleepUnless(waitMs * policy.delayScale, signals.length > 1 ? AbortSignal.any(signals) : signals[0]);
      }
    }
  }

  /** Counts the request about to be sent, or refuses it once --max-calls are made. */
  #countCall(request: ApiRequest): void {
    if (request.uncounted === true) return;
    const { maxCalls } = this.#options;
    if (maxCalls !== undefined && this.#callsMade >= maxCalls) throw new CallBudgetSpent(maxCalls);
    this.#callsMade += 1;
  }

  #budgetSpent(request: ApiRequest): boolean {
    const { maxCalls } = this.#options;
    return request.uncounted !== true && maxCalls !== undefined && this.#callsMade >= maxCalls;
  }

  async #attempt(request: ApiRequest, signals: readonly AbortSignal[]): Promise<JsonObject> {
    const { statusCode, headers, body } = await this.#exchange(request, signals);
    if (body === undefined) {
      // Read no further: the connection is dropped, and the same call would only bring the same.
      throw new WxError(
        `The answer of ${this.origin} to ${request.path} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, far past any answer of the API; stopped reading it. Check --base-url, or try again later.`,
        ExitCode.Api,
      );
    }
    if (statusCode < 200 || statusCode > 299) throw this.#statusFailure(request, statusCode, headers);
    const { proxy, throughPlatform } = this.#options;
    return parseAnswer(body, {
      origin: this.origin,
      path: request.path,
      headers,
      secrets: secretsOf(request),
      via: throughProxy(proxy),
      throughPlatform: throughPlatform === true,
    });
  }

  /** One request and its answer's body (undefined past MAX_ANSWER_BYTES), within --timeout; a failure is a WxError. */
  async #exchange(request: ApiRequest, signals: readonly AbortSignal[]): Promise<Exchange> {
    const { timeoutMs } = this.#options;
    // One controller a request, its timer cleared and its listeners removed when it ends:
    // AbortSignal.any() over the run's long-lived signal costs more with every request made.
    const controller = new AbortController();
    let timedOut = false;
    let stalledStage: TunnelStage | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      // Read before the abort, which makes undici drop a tunnel still being opened.
      stalledStage = this.#proxied?.watch.stalledStage();
      controller.abort();
    }, timeoutMs);
    const aborted = (): AbortSignal | undefined => signals.find((signal) => signal.aborted);
    const onAbort = (): void => controller.abort(aborted()?.reason);
    for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
    if (aborted() !== undefined) onAbort();
    try {
      const response = await this.#request.call(this.#pool, this.#dispatchOptions(request, controller.signal));
      const body = await readCapped(response.body, response.headers['content-length'], MAX_ANSWER_BYTES);
      return { statusCode: response.statusCode, headers: response.headers, body };
    } catch (error) {
      const stopped = aborted();
      if (stopped !== undefined) throw stopped.reason;
      const connecting = { origin: this.origin, path: request.path, proxy: this.#options.proxy };
      if (timedOut && stalledStage !== undefined) {
        throw connectionFailure(new TunnelError({ kind: 'timeout', stage: stalledStage, ms: timeoutMs }, error), connecting);
      }
      if (timedOut) {
        throw new WxError(
          `No answer from ${this.origin}${throughProxy(this.#options.proxy)} within ${timeoutMs} ms (${request.path}). Check the network, or raise --timeout.`,
          ExitCode.Api,
          { cause: error, retry: { kind: 'backoff' } },
        );
      }
      throw connectionFailure(error, connecting);
    } finally {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The request as undici takes it. Through a forward proxy (an http origin), it goes to the
   * proxy with the API's absolute URI, the API's Host and the proxy's credentials.
   */
  #dispatchOptions(request: ApiRequest, signal: AbortSignal): Dispatcher.RequestOptions {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#options.userAgent,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const path = this.#pathWithQuery(request);
    const { proxy } = this.#options;
    if (this.#proxied?.forward !== true || proxy === undefined) {
      return { origin: this.origin, method: request.method, path, headers, body, signal };
    }
    headers['host'] = this.#options.baseUrl.host;
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
    return { origin: proxy.url.origin, method: request.method, path: `${this.origin}${path}`, headers, body, signal };
  }

  #statusFailure(request: ApiRequest, statusCode: number, headers: Exchange['headers']): WxError {
    const { proxy } = this.#options;
    if (this.#proxied?.forward === true && proxy !== undefined && isProxyOwnAnswer(statusCode, headers)) {
      return proxyRefusal(statusCode, { origin: this.origin, path: request.path, proxy }, proxy);
    }
    const transient = statusCode >= 500 || statusCode === 429;
    if (!transient) {
      // A 4xx comes back the same however often it is asked: most often a --base-url whose path is wrong.
      return new WxError(
        `The API answered HTTP ${statusCode} to ${this.#basePath}${request.path} at ${this.origin}: the server does not take this request. Check --base-url (its path, if it has one).`,
        ExitCode.Api,
      );
    }
    const retryAfterMs = parseRetryAfter(headers['retry-after'], this.#options.retry?.now ?? Date.now);
    return new WxError(`The API answered HTTP ${statusCode} to ${request.path}. Try again later.`, ExitCode.Api, {
      retry: { kind: 'backoff', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    });
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  #pathWithQuery(request: ApiRequest): string {
    const query = new URLSearchParams(request.query).toString();
    return `${this.#basePath}${request.path}${query === '' ? '' : `?${query}`}`;
  }
}

/** An answer as read: its status, headers and body (undefined when it passed MAX_ANSWER_BYTES). */
interface Exchange {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Buffer | undefined;
}

/**
 * Whether an answer to a forwarded request is the proxy's own rather than the API's: a 407
 * (only a proxy asks for its credentials); one it marks as its own (Proxy-Status, RFC 9209;
 * Squid's X-Squid-Error); or a 502 or 504 without a Via header, which a proxy adds to every
 * answer it forwards (RFC 9110, 7.6.3), so that the API's own 502 through it carries one.
 */
function isProxyOwnAnswer(statusCode: number, headers: Exchange['headers']): boolean {
  if (statusCode === 407) return true;
  if (statusCode < 500) return false;
  if (headers['proxy-status'] !== undefined || headers['x-squid-error'] !== undefined) return true;
  return (statusCode === 502 || statusCode === 504) && headers['via'] === undefined;
}

async function sleepUnless(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(Math.min(ms, MAX_TIMER_MS), undefined, signal === undefined ? undefined : { signal });
  } catch (error) {
    if (signal?.aborted === true) throw signal.reason;
    throw error;
  }
}

/**
 * The body, or undefined once it passes `maxBytes`: then it is read no further, and
 * destroying it drops the connection, so that memory stays bounded whatever the server sends.
 */
export async function readCapped(
  body: Dispatcher.ResponseData['body'],
  contentLength: string | string[] | undefined,
  maxBytes: number,
): Promise<Buffer | undefined> {
  // Destroyed, the body emits an error of its own: the caller has what it needs already.
  body.on('error', () => undefined);
  const declared = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    return undefined;
  }
  // 'data' events rather than `for await`: the stream's async iterator cost about 0.5 ms a page
  // of 10,000 OpenIDs, a tenth of an export's time against a fast server.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.once('error', reject);
  });
}

function withToken(request: ApiRequest, token: string): ApiRequest {
  return { ...request, query: { [request.tokenParameter ?? 'access_token']: token, ...request.query } };
}

/** The body fields that are secrets: stable_token's AppSecret, the platform's refresh token. */
const SECRET_BODY_FIELDS = ['secret', 'authorizer_refresh_token'] as const;

/** What the request carries that no message may show: its token, stable_token's AppSecret, a refresh token. */
function secretsOf(request: ApiRequest): string[] {
  const secrets: string[] = [];
  const token = request.query?.[request.tokenParameter ?? 'access_token'];
  if (token !== undefined) secrets.push(token);
  const { body } = request;
  if (typeof body !== 'object' || body === null) return secrets;
  for (const field of SECRET_BODY_FIELDS) {
    const value: unknown = (body as Record<string, unknown>)[field];
    if (typeof value === 'string') secrets.push(value);
  }
  return secrets;
}

/** Exponential backoff with full jitter; Retry-After, when the server sends one, wins. */
export function retryDelay(hint: RetryHint, attempt: number, policy: RetryPolicy): number {
  if (hint.kind === 'next-minute') return 60_000 - (policy.now() % 60_000);
  if (hint.retryAfterMs !== undefined) return Math.min(hint.retryAfterMs, 10 * policy.maxDelayMs);
  return policy.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

function waitReason(error: WxError): string {
  if (error.retry?.kind === 'next-minute') return 'waiting for the next minute (per-minute limit, errcode 45011)';
  if (error.errcode !== undefined) return `retrying (errcode ${error.errcode})`;
  return 'retrying after a network or server error';
}

/** Retry-After in seconds or as an HTTP date. */
function parseRetryAfter(header: string | string[] | undefined, now: () => number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}
