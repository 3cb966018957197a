import { Pool } from 'undici';
import { ExitCode, WxError, errcodeDetail } from '../errors.js';
import { errorForErrcode, isTokenRefusal } from './errcodes.js';

export interface ApiRequest {
  method: 'GET' | 'POST';
  /** Path below the API origin, e.g. `/cgi-bin/user/get`. */
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: unknown;
}

/** Where the client gets the access token, and a new one when the API refuses it. */
export interface TokenSource {
  token(): Promise<string>;
  /** A token to use instead of `refused`, or the WxError to stop with. */
  renew(refused: string, refusal: WxError): Promise<string>;
}

export interface ApiClientOptions {
  baseUrl: URL;
  timeoutMs: number;
  tokens: TokenSource;
  userAgent: string;
  /** Calls in flight at once; the list is walked one call at a time. */
  connections?: number;
  /** Aborts whatever request is in flight (Ctrl-C, a reader that went away). */
  signal?: AbortSignal;
}

export type JsonObject = Record<string, unknown>;

/**
 * The only module that speaks HTTP. It owns the connection pool, the token in the URL, the
 * errcode convention of the API, and turns every failure into a WxError.
 */
export class ApiClient {
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    // Sized to the calls in flight: a larger pool hands calls made one after the other to a
    // second connection, because the first is not yet free when its body has been read.
    this.#pool = new Pool(options.baseUrl.origin, { connections: options.connections ?? 1, keepAliveTimeout: 30_000 });
    this.#basePath = options.baseUrl.pathname.replace(/\/+$/, '');
  }

  get origin(): string {
    return this.#options.baseUrl.origin;
  }

  /**
   * A call that carries the access token in its query, as every call of the API does. A refused
   * token is renewed once and the same request repeated, so that nothing is lost or written twice.
   */
  async call(request: ApiRequest): Promise<JsonObject> {
    const { tokens } = this.#options;
    const token = await tokens.token();
    try {
      return await this.send(withToken(request, token));
    } catch (refusal) {
      if (!(refusal instanceof WxError) || !isTokenRefusal(refusal.errcode)) throw refusal;
      const renewed = await tokens.renew(token, refusal);
      try {
        return await this.send(withToken(request, renewed));
      } catch (again) {
        if (!(again instanceof WxError) || !isTokenRefusal(again.errcode)) throw again;
        throw new WxError(
          `The API refused the access token just renewed from the AppID and AppSecret too (${errcodeDetail(again.errcode, again.errmsg)}). ` +
            "Another program may be forcing refreshes of the account's stable token; try again later.",
          ExitCode.Credentials,
          { errcode: again.errcode, errmsg: again.errmsg },
        );
      }
    }
  }

  /** One HTTP exchange; the answer is a JSON object without a non-zero errcode, or a WxError. */
  async send(request: ApiRequest): Promise<JsonObject> {
    const { timeoutMs, signal: outerSignal } = this.#options;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = outerSignal === undefined ? timeout : AbortSignal.any([outerSignal, timeout]);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#options.userAgent,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    let statusCode: number;
    let text: string;
    try {
      const response = await this.#pool.request({
        method: request.method,
        path: this.#pathWithQuery(request),
        headers,
        body,
        signal,
      });
      statusCode = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      if (outerSignal?.aborted === true) throw outerSignal.reason;
      if (timeout.aborted) {
        throw new WxError(
          `No answer from ${this.origin} within ${timeoutMs} ms (${request.path}). Check the network, or raise --timeout.`,
          ExitCode.Api,
          { cause: error },
        );
      }
      throw new WxError(
        `Could not talk to ${this.origin} (${request.path}): ${describeNetworkError(error)}. Check the network and --base-url.`,
        ExitCode.Api,
        { cause: error },
      );
    }
    if (statusCode < 200 || statusCode > 299) {
      throw new WxError(
        `The API answered HTTP ${statusCode} to ${request.path}. Try again later.`,
        ExitCode.Api,
      );
    }
    return parseAnswer(text, request.path);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  #pathWithQuery(request: ApiRequest): string {
    const query = new URLSearchParams(request.query).toString();
    return `${this.#basePath}${request.path}${query === '' ? '' : `?${query}`}`;
  }
}

function withToken(request: ApiRequest, token: string): ApiRequest {
  return { ...request, query: { access_token: token, ...request.query } };
}

/** The Content-Type header of the API is not reliable: the body is JSON whatever it says. */
function parseAnswer(text: string, path: string): JsonObject {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WxError(
      `The API's answer to ${path} is not JSON (${text.length} bytes, possibly cut off). Try again later.`,
      ExitCode.Api,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WxError(`The API's answer to ${path} is not a JSON object.`, ExitCode.Api);
  }
  const answer = json as JsonObject;
  const errcode = answer['errcode'];
  if (errcode !== undefined && errcode !== 0) {
    const errmsg = typeof answer['errmsg'] === 'string' ? answer['errmsg'] : '';
    if (typeof errcode !== 'number') {
      throw new WxError(`The API's answer to ${path} has an errcode that is not a number.`, ExitCode.Api);
    }
    throw errorForErrcode(errcode, errmsg);
  }
  return answer;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const causeCode =
      error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException).code : undefined;
    return [code, causeCode, error.message].filter((part) => part !== undefined && part !== '').join(': ');
  }
  return String(error);
}
