import { ExitCode, WxError, errcodeDetail } from '../../errors.js';
import type { ApiClient, JsonObject } from '../client.js';

/** What stable_token is asked with: the account's AppID and AppSecret. */
export interface AppCredentials {
  appid: string;
  secret: string;
  /** Where each came from ('--appid', 'WX_SECRET', 'config key secret'), for `wx-followers check`. */
  origins?: { appid: string; secret: string };
}

export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

/**
 * `POST /cgi-bin/stable_token` in normal mode. Never the legacy `GET /cgi-bin/token`: each call
 * of that one retires the token the account's production server holds.
 */
export async function fetchStableToken(client: ApiClient, app: AppCredentials): Promise<IssuedToken> {
  try {
    return await client.send(
      {
        method: 'POST',
        path: '/cgi-bin/stable_token',
        body: { grant_type: 'client_credential', appid: app.appid, secret: app.secret, force_refresh: false },
      },
      parseIssuedToken,
    );
  } catch (error) {
    // On this endpoint 40001 is a wrong AppSecret, not a bad token.
    if (error instanceof WxError && error.errcode === 40001) {
      throw new WxError(
        `The API refused the AppSecret for AppID ${app.appid} (${errcodeDetail(error.errcode, error.errmsg)}). ` +
          'Check the AppSecret, or reset it, in the Official Account settings (Development > Basic configuration).',
        ExitCode.Credentials,
        { errcode: 40001, errmsg: error.errmsg },
      );
    }
    throw error;
  }
}

function parseIssuedToken(answer: JsonObject): IssuedToken {
  const { access_token: accessToken, expires_in: expiresIn } = answer;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new WxError('The API answered stable_token without an access_token. Try again later.', ExitCode.Api);
  }
  return { accessToken, expiresInSeconds: lifetimeSeconds(expiresIn) };
}

/** The documented lifetime of a token, and the most it lives. */
const TOKEN_LIFETIME_SECONDS = 7200;

/**
 * expires_in as the answer gives it, a number or a quoted one; missing or unreadable, the
 * documented 7200 s: should the token die sooner, the API's refusal renews it anyway.
 */
function lifetimeSeconds(expiresIn: unknown): number {
  const seconds = typeof expiresIn === 'string' && /^[0-9]{1,9}$/.test(expiresIn.trim()) ? Number(expiresIn.trim()) : expiresIn;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return TOKEN_LIFETIME_SECONDS;
  return Math.min(seconds, TOKEN_LIFETIME_SECONDS);
}
