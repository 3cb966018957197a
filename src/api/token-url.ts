import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { ExitCode, WxError, counted, shown } from '../errors.js';
import { loadUndici, readCapped, retryDelay, type RetryPolicy } from './client.js';
import { connectionFailure, proxyRefusal, throughProxy } from './connection-errors.js';
import type { ForwardProxy } from './proxy.js';
import { openProxyTransport } from './proxy-transport.js';
import { PROVIDED_TOKEN_FORMAT, readProvidedToken, type ProvidedToken, type TokenProvider } from './token-sources.js';

/** Far more than a token or its JSON: past it, the answer is read no further and is no token. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface TokenUrlOptions {
  /** With {appid} filled in. */
  url: URL;
  /** Where it was given: '--token-url', 'WX_TOKEN_URL', 'config key token-url'. */
  from: string;
  /** The Authorization header (WX_TOKEN_URL_AUTH), if any. */
  authorization: string | undefined;
  /** The setting it was given by, and the variable of its Authorization, as messages name them: '--token-url', 'WX_TOKEN_URL_AUTH'. */
  names?: { setting: string; authorizationEnv: string };
  /** The proxy for the service's origin, as for the API (NO_PROXY applied). */
  proxy: ForwardProxy | undefined;
  timeoutMs: number;
  retry: RetryPolicy;
  userAgent: string;
  signal?: AbortSignal;
}

/**
 * A token service of the company's (GET, bare token or JSON): reached as the API is, through the
 * same proxy settings, --timeout and retries; after a refusal, asked again with refresh=1.
 */
export class TokenUrl implements TokenProvider {
  readonly name: string;
  readonly refreshHint = 'refresh=1';
  readonly #options: TokenUrlOptions;

  constructor(options: TokenUrlOptions) {
    this.#options = options;
    this.name = `the token service ${serviceLabel(options.url)} (from ${options.from})`;
  }

  async get(refresh: boolean): Promise<ProvidedToken> {
    const url = new URL(this.#options.url);
    // Added to the query as written, so that the rest of it reaches the service byte for byte.
    if (refresh) url.search = url.search === '' ? '?refresh=1' : `${url.search}&refresh=1`;
    const { retry, signal } = this.#options;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#ask(url);
      } catch (error) {
        if (!(error instanceof WxError) || error.retry === undefined) throw error;
        if (attempt >= retry.retries) {
          throw new WxError(`${error.message} (Gave up after ${counted(retry.retries, 'retry', 'retries')}.)`, error.exitCode, {
            cause: error,
          });
        }
        await sleep(retryDelay(error.retry, attempt, retry) * retry.delayScale, undefined, signal === undefined ? {} : { signal });
      }
    }
  }

  async #ask(url: URL): Promise<ProvidedToken> {
    const { statusCode, text, forwarded } = await this.#exchange(url);
    const name = capitalized(this.name);
    if (forwarded && statusCode === 407 && this.#options.proxy !== undefined) {
      throw proxyRefusal(statusCode, this.#connecting(url), this.#options.proxy);
    }
    if (statusCode === 401 || statusCode === 403) {
      const auth = this.#options.authorization === undefined ? 'none is set' : 'it is set';
      throw new WxError(
        `${name} refused the request (HTTP ${statusCode}). Check ${this.#names.authorizationEnv}, sent as the Authorization header (${auth}).`,
        ExitCode.Credentials,
      );
    }
    if (statusCode === 429 || statusCode >= 500) {
      throw new WxError(`${name} answered HTTP ${statusCode}. Try again later.`, ExitCode.Api, { retry: { kind: 'backoff' } });
    }
    if (statusCode < 200 || statusCode > 299) {
      throw new WxError(
        `${name} answered HTTP ${statusCode}: it does not take this request. Check ${this.#names.setting}.`,
        ExitCode.Credentials,
      );
    }
    if (text === undefined) {
      throw new WxError(
        `${name} answered more than ${MAX_ANSWER_BYTES / 1024} KiB: no token. ${PROVIDED_TOKEN_FORMAT}.`,
        ExitCode.Credentials,
      );
    }
    const read = readProvidedToken(text);
    if ('problem' in read) {
      throw new WxError(
        `${name} answered ${read.problem}. ${PROVIDED_TOKEN_FORMAT}. Ask it yourself (curl) to see what it answers (not shown here: it may hold a secret).`,
        ExitCode.Credentials,
      );
    }
    return read;
  }

  /** One GET within --timeout, on a connection of its own (asked once in two hours: nothing to keep open). */
  async #exchange(url: URL): Promise<{ statusCode: number; text: string | undefined; forwarded: boolean }> {
    const { proxy, timeoutMs, signal } = this.#options;
    const undici = loadUndici();
    const transport =
      proxy === undefined ? undefined : openProxyTransport(undici.Pool, url, proxy, { connections: 1, keepAliveTimeout: 1 }, timeoutMs);
    const pool = transport?.dispatcher ?? new undici.Pool(url.origin, { connections: 1 });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await undici.request.call(pool, this.#dispatchOptions(url, transport?.forward === true, controller.signal));
      const text = (await readCapped(response.body, response.headers['content-length'], MAX_ANSWER_BYTES))?.toString('utf8');
      return { statusCode: response.statusCode, text, forwarded: transport?.forward === true };
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      if (timedOut) {
        throw new WxError(
          `No answer from ${this.name}${throughProxy(proxy)} within ${timeoutMs} ms. Check the service, or raise --timeout.`,
          ExitCode.Api,
          { cause: error, retry: { kind: 'backoff' } },
        );
      }
      throw connectionFailure(error, this.#connecting(url));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      await pool.destroy();
    }
  }

  #dispatchOptions(url: URL, forward: boolean, signal: AbortSignal): Dispatcher.RequestOptions {
    const headers: Record<string, string> = { accept: 'application/json, text/plain', 'user-agent': this.#options.userAgent };
    if (this.#options.authorization !== undefined) headers['authorization'] = this.#options.authorization;
    const path = `${url.pathname}${url.search}`;
    const { proxy } = this.#options;
    if (!forward || proxy === undefined) return { origin: url.origin, method: 'GET', path, headers, signal };
    // A plain-http service through a forward proxy: the absolute URI, as curl sends it.
    headers['host'] = url.host;
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
    return { origin: proxy.url.origin, method: 'GET', path: `${url.origin}${path}`, headers, signal };
  }

  #connecting(url: URL): { origin: string; path: string; proxy: ForwardProxy | undefined; setting: string } {
    return { origin: url.origin, path: url.pathname, proxy: this.#options.proxy, setting: this.#names.setting };
  }

  get #names(): { setting: string; authorizationEnv: string } {
    return this.#options.names ?? { setting: '--token-url', authorizationEnv: 'WX_TOKEN_URL_AUTH' };
  }
}

/** The service as messages name it: its origin and path, never its query (which may carry a key). */
function serviceLabel(url: URL): string {
  return shown(`${url.origin}${url.pathname}`);
}

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
