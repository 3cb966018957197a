import type { HeldToken, TokenSource } from './client.js';
import type { AppCredentials, IssuedToken } from './endpoints/stable-token.js';
import { ExitCode, HOW_TO_GIVE_APP_CREDENTIALS, WxError, errcodeDetail } from '../errors.js';

/** A cached token is not used in its last five minutes: the platform renews it then. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/** What the person gave: a token (with where it came from), and the AppID and AppSecret, looked up when needed. */
interface GivenCredentials {
  token: { value: string; origin: string } | undefined;
  app(): Promise<AppCredentials | undefined>;
}

interface CachedToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * Where stable tokens are kept between runs, per AppID, each for the AppSecret it was got with
 * (the config store, in a run; the manager knows no more of it than this).
 */
export interface TokenCache {
  /** The token cached for this AppID, if it was got with this AppSecret. */
  read(owner: AppCredentials): CachedToken | undefined;
  /** Throws CacheNotSaved when the cache cannot be written: the run goes on without it. */
  write(owner: AppCredentials, token: CachedToken): Promise<void>;
  /** Forgets this AppID's token if it is still `accessToken` (another process may have cached a newer one). */
  forget(appid: string, accessToken: string): Promise<void>;
}

/** The cache could not be written (a read-only config): said once, and the run goes on. */
export class CacheNotSaved extends Error {}

export interface TokenManagerOptions {
  credentials: GivenCredentials;
  cache: TokenCache;
  fetchStableToken: (app: AppCredentials) => Promise<IssuedToken>;
  /** A one-line notice for the person (the fallback from a refused token). */
  notice: (line: string) => void;
  /** Told once that the token cache cannot be written (a terminal's person only: cron has no use for it). */
  cacheNotice: (line: string) => void;
  /** Every token the manager holds, so that it can be blanked out of any message. */
  onSecret: (secret: string) => void;
  now?: () => number;
}

/**
 * Which token to use, and what to do when the API refuses it: an explicit token first; else,
 * or when that is refused, a stable token from the AppID and AppSecret, cached per AppID and
 * AppSecret.
 */
export class TokenManager implements TokenSource {
  readonly #options: TokenManagerOptions;
  readonly #now: () => number;
  #current: Promise<HeldToken> | undefined;
  /**
   * Counts renewals. Calls refused with the token of one generation share one renewal; a token
   * is never recognised by its string, which stable_token may hand back again.
   */
  #generation = 0;
  /** Whether cacheNotice was told already. */
  #toldCacheNotSaved = false;

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { token } = options.credentials;
    if (token !== undefined) options.onSecret(token.value);
  }

  token(): Promise<HeldToken> {
    const given = this.#options.credentials.token;
    this.#current ??= given === undefined ? this.#held(this.#fromApp(true)) : Promise.resolve({ value: given.value, generation: 0 });
    return this.#current;
  }

  isSuperseded(held: HeldToken): boolean {
    return held.generation < this.#generation;
  }

  renew(refused: HeldToken, refusal: WxError): Promise<HeldToken> {
    if (this.isSuperseded(refused) && this.#current !== undefined) return this.#current;
    this.#generation += 1;
    this.#current = this.#held(this.#renew(refused, refusal));
    return this.#current;
  }

  refusedAfterRenewal(refusal: WxError): WxError {
    return new WxError(
      `The API refused the access token just renewed from the AppID and AppSecret too (${errcodeDetail(refusal.errcode, refusal.errmsg)}). ` +
        "Another program may be forcing refreshes of the account's stable token; try again later.",
      ExitCode.Credentials,
      { errcode: refusal.errcode, errmsg: refusal.errmsg },
    );
  }

  async discard(held: HeldToken): Promise<void> {
    if (held.generation === 0 && this.#options.credentials.token !== undefined) return;
    const app = await this.#app();
    if (app === undefined) return;
    const { cache } = this.#options;
    // Only that token: a newer one that another call renewed since may still be good.
    if (cache.read(app)?.accessToken === held.value) await this.#cacheQuietly(() => cache.forget(app.appid, held.value));
  }

  async #held(value: Promise<string>): Promise<HeldToken> {
    const generation = this.#generation;
    return { value: await value, generation };
  }

  async #renew(refused: HeldToken, refusal: WxError): Promise<string> {
    const { credentials, notice } = this.#options;
    const given = credentials.token;
    const app = await this.#app();
    if (app === undefined) {
      throw new WxError(`${refusal.message} ${HOW_TO_GIVE_APP_CREDENTIALS}`, ExitCode.Credentials, {
        errcode: refusal.errcode,
      });
    }
    if (given !== undefined && refused.generation === 0) {
      notice(
        `wx-followers: the access token from ${given.origin} was refused (errcode ${refusal.errcode}); using a token from the AppID and AppSecret instead.`,
      );
    } else {
      await this.#cacheQuietly(() => this.#options.cache.forget(app.appid, refused.value));
    }
    // Never the cache: it may hold the very token just refused.
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
    const { cache } = this.#options;
    if (useCache) {
      // Only a token got with this same AppSecret: a wrong one must meet its own refusal at once.
      const cached = cache.read(app);
      if (cached !== undefined && this.#now() < cached.expiresAt - EXPIRY_MARGIN_MS) {
        this.#options.onSecret(cached.accessToken);
        return cached.accessToken;
      }
    }
    const issued = await this.#options.fetchStableToken(app);
    this.#options.onSecret(issued.accessToken);
    const token = { accessToken: issued.accessToken, expiresAt: this.#now() + issued.expiresInSeconds * 1000 };
    await this.#cacheQuietly(() => cache.write(app, token));
    return issued.accessToken;
  }

  /**
   * The cache only spares the next run a stable_token call: a config file that cannot be written
   * (read-only, root-owned) still serves the run, which goes on with the token it has.
   */
  async #cacheQuietly(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (!(error instanceof CacheNotSaved)) throw error;
      if (this.#toldCacheNotSaved) return;
      this.#toldCacheNotSaved = true;
      this.#options.cacheNotice(`wx-followers: the access token is not cached; the next run asks stable_token again. ${error.message}`);
    }
  }
}
