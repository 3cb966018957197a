import type { ApiClient } from './client.js';
import { fetchAuthorizerToken } from './endpoints/component.js';
import { ExitCode, WxError } from '../errors.js';
import type { ProvidedToken, TokenProvider } from './token-sources.js';

export interface RefreshedTokensOptions {
  /** The platform's client: its calls carry the component token. */
  client: ApiClient;
  componentAppid: string;
  appid: string;
  /** From the platform's list: a secret, kept in memory for this run only. */
  refreshToken: string;
  onSecret: (secret: string) => void;
}

/** The errcodes of api_authorizer_token that are this account's alone: the others' tokens come as before. */
const THIS_ACCOUNT_ONLY = new Set([61003, 61007, 61023]);

/**
 * An authorized account's tokens from api_authorizer_token, with the refresh token the platform's
 * list gave (never stored, never shown): asked for at the first call, again before the expiry it
 * told and whenever the API refuses one. A new refresh token in an answer replaces the old one for
 * the rest of the run. Asking WeChat for a new token may retire the one the platform's server
 * holds: --authorizer-token-command or -url, which ask that server, are the better source.
 */
export class RefreshedAuthorizerTokens implements TokenProvider {
  readonly name = "api_authorizer_token (with the refresh token from the platform's list)";
  readonly refreshHint = 'a new token for the refresh token';
  readonly #options: RefreshedTokensOptions;
  readonly #signal: AbortSignal | undefined;
  #refreshToken: string;

  constructor(options: RefreshedTokensOptions, signal?: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
    this.#refreshToken = options.refreshToken;
    options.onSecret(options.refreshToken);
  }

  async get(): Promise<ProvidedToken> {
    const { client, componentAppid, appid, onSecret } = this.#options;
    try {
      const token = await fetchAuthorizerToken(
        client,
        { componentAppid, authorizerAppid: appid, refreshToken: this.#refreshToken },
        onSecret,
        this.#signal,
      );
      if (token.refreshToken !== undefined) this.#refreshToken = token.refreshToken;
      return { value: token.accessToken, expiresInSeconds: token.expiresInSeconds };
    } catch (error) {
      throw platformWideUnlessOwn(error);
    }
  }
}

/**
 * A refused credential of api_authorizer_token other than this account's own (61003 withdrawn,
 * 61023 refresh token refused) is the platform's: its component token refused, its AppID unknown,
 * its IP off the whitelist. Every account would meet it.
 */
function platformWideUnlessOwn(error: unknown): unknown {
  if (!(error instanceof WxError) || error.platformWide) return error;
  if (error.exitCode !== ExitCode.Credentials || (error.errcode !== undefined && THIS_ACCOUNT_ONLY.has(error.errcode))) return error;
  return new WxError(error.message, error.exitCode, {
    ...(error.errcode === undefined ? {} : { errcode: error.errcode }),
    ...(error.errmsg === undefined ? {} : { errmsg: error.errmsg }),
    cause: error,
    platformWide: true,
  });
}
