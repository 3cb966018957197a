import type { TokenSource } from './api/client.js';
import type { IssuedToken } from './api/stable-token.js';
import type { ConfigStore } from './config-store.js';
import { HOW_TO_GIVE_APP_CREDENTIALS, type AppCredentials, type Credentials } from './credentials.js';
import { ExitCode, WxError } from './errors.js';

/** A cached token is not used in its last five minutes: the platform renews it then. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

export interface TokenManagerOptions {
  credentials: Credentials;
  store: () => Promise<ConfigStore>;
  fetchStableToken: (app: AppCredentials) => Promise<IssuedToken>;
  /** A one-line notice for the person (the fallback from a refused token). */
  notice: (line: string) => void;
  /** Every token the manager holds, so that it can be blanked out of any message. */
  onSecret: (secret: string) => void;
  now?: () => number;
}

/**
 * Which token to use, and what to do when the API refuses it: an explicit token first; else,
 * or when that is refused, a stable token from the AppID and AppSecret, cached per AppID.
 */
export class TokenManager implements TokenSource {
  readonly #options: TokenManagerOptions;
  readonly #now: () => number;
  #current: Promise<string> | undefined;
  /** Renewals by the token they replace, so that calls refused together renew once. */
  readonly #renewals = new Map<string, Promise<string>>();

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { token } = options.credentials;
    if (token !== undefined) options.onSecret(token.value);
  }

  token(): Promise<string> {
    const given = this.#options.credentials.token;
    this.#current ??= given === undefined ? this.#fromApp(true) : Promise.resolve(given.value);
    return this.#current;
  }

  renew(refused: string, refusal: WxError): Promise<string> {
    let renewal = this.#renewals.get(refused);
    if (renewal === undefined) {
      renewal = this.#renew(refused, refusal);
      this.#renewals.set(refused, renewal);
      this.#current = renewal;
    }
    return renewal;
  }

  async #renew(refused: string, refusal: WxError): Promise<string> {
    const { credentials, notice } = this.#options;
    const given = credentials.token;
    const app = await this.#app();
    if (app === undefined) {
      throw new WxError(`${refusal.message} ${HOW_TO_GIVE_APP_CREDENTIALS}`, ExitCode.Credentials, {
        errcode: refusal.errcode,
      });
    }
    if (given !== undefined && refused === given.value) {
      notice(
        `wx-followers: the access token from ${given.origin} was refused (errcode ${refusal.errcode}); using a token from the AppID and AppSecret instead.`,
      );
      return this.#fromApp(true);
    }
    (await this.#options.store()).forgetToken(app.appid);
    return this.#fromApp(false);
  }

  async #app(): Promise<AppCredentials | undefined> {
    const app = await this.#options.credentials.app();
    if (app !== undefined) this.#options.onSecret(app.secret);
    return app;
  }

  async #fromApp(useCache: boolean): Promise<string> {
    const app = await this.#app();
    if (app === undefined) throw new Error('a token from the AppID was asked for without one');
    const store = await this.#options.store();
    if (useCache) {
      const cached = store.cachedToken(app.appid);
      if (cached !== undefined && this.#now() < cached.expiresAt - EXPIRY_MARGIN_MS) {
        this.#options.onSecret(cached.accessToken);
        return cached.accessToken;
      }
    }
    const issued = await this.#options.fetchStableToken(app);
    this.#options.onSecret(issued.accessToken);
    store.cacheToken(app.appid, {
      accessToken: issued.accessToken,
      expiresAt: this.#now() + issued.expiresInSeconds * 1000,
    });
    return issued.accessToken;
  }
}
