import { isIP } from 'node:net';
import { ExitCode, WxError, errcodeDetail, type RetryHint } from '../errors.js';

interface ErrcodeAdvice {
  what: string;
  exitCode: ExitCode;
  todo: string;
}

const TOKEN_TODO = 'Give a fresh access token.';

/** What each errcode means to a person, and what they can do about it (shared/wechat-api.md). */
const ADVICE: ReadonlyMap<number, ErrcodeAdvice> = new Map<number, ErrcodeAdvice>([
  [-1, { what: 'The WeChat API is busy', exitCode: ExitCode.Api, todo: 'Try again in a moment.' }],
  [40001, { what: 'The API refused the access token', exitCode: ExitCode.Credentials, todo: TOKEN_TODO }],
  [40014, { what: 'The access token is not valid', exitCode: ExitCode.Credentials, todo: TOKEN_TODO }],
  [41001, { what: 'The request carried no access token', exitCode: ExitCode.Credentials, todo: TOKEN_TODO }],
  [42001, { what: 'The access token has expired', exitCode: ExitCode.Credentials, todo: TOKEN_TODO }],
  [
    40013,
    {
      what: 'The API does not know this AppID',
      exitCode: ExitCode.Credentials,
      todo: 'Check the AppID in the Official Account settings (Development > Basic configuration).',
    },
  ],
  [
    40125,
    {
      what: 'The API refused the AppSecret',
      exitCode: ExitCode.Credentials,
      todo: 'Check the AppSecret, or reset it, in the Official Account settings (Development > Basic configuration).',
    },
  ],
  [
    40164,
    {
      what: "This machine's IP address is not on the account's IP whitelist",
      exitCode: ExitCode.Credentials,
      todo: "Add this machine's public IP address to the IP whitelist in the Official Account settings (Development > Basic configuration).",
    },
  ],
  [
    61004,
    {
      what: "This machine's IP address is not on the account's IP whitelist",
      exitCode: ExitCode.Credentials,
      todo: "Add this machine's public IP address to the IP whitelist in the Official Account settings (Development > Basic configuration).",
    },
  ],
  [
    48001,
    {
      what: 'This Official Account has no permission for this API',
      exitCode: ExitCode.Credentials,
      todo: 'The follower list needs a verified account (unverified subscription accounts cannot call it).',
    },
  ],
  [
    45009,
    {
      what: "The account's daily quota for this API is spent",
      exitCode: ExitCode.Quota,
      todo: 'The quota resets at midnight Beijing time (16:00 UTC); run again after that.',
    },
  ],
  [
    45011,
    {
      what: 'The API refused the call: too many calls this minute',
      exitCode: ExitCode.Quota,
      todo: 'Wait a minute and run again.',
    },
  ],
  [
    45159,
    {
      what: 'The account has no tag with this id',
      exitCode: ExitCode.Usage,
      todo: "List the account's tags and their ids with: wx-followers tags",
    },
  ],
  [
    40003,
    {
      // Which OpenID, and what that means, only the caller knows (the pager, batchget).
      what: 'The API does not know an OpenID the call carried',
      exitCode: ExitCode.Api,
      todo: 'Try again later.',
    },
  ],
]);

const RETRIES: ReadonlyMap<number, RetryHint> = new Map<number, RetryHint>([
  [-1, { kind: 'backoff' }],
  [45011, { kind: 'next-minute' }],
]);

export function isTokenRefusal(errcode: number | undefined): boolean {
  return errcode === 40001 || errcode === 40014 || errcode === 42001;
}

export function errorForErrcode(errcode: number, errmsg: string): WxError {
  if (errcode === 40164) return notWhitelisted(errmsg);
  const advice = ADVICE.get(errcode);
  const detail = errcodeDetail(errcode, errmsg);
  if (advice === undefined) {
    return new WxError(`The WeChat API refused the call (${detail}).`, ExitCode.Api, { errcode, errmsg });
  }
  return new WxError(`${advice.what} (${detail}). ${advice.todo}`, advice.exitCode, {
    errcode,
    errmsg,
    retry: RETRIES.get(errcode),
  });
}

/** The address a 40164's errmsg names, when it names one that is an IP address. */
export function ipNotWhitelisted(errmsg: string): string | undefined {
  const seen = /invalid ip (\S+?),?(?:\s|$)/.exec(errmsg)?.[1];
  return seen !== undefined && isIP(seen) !== 0 ? seen : undefined;
}

/**
 * 40164 names the address the API saw ("invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in
 * whitelist"): through a proxy, its server's. The errmsg is the API's text, shown escaped (errcodeDetail).
 */
function notWhitelisted(errmsg: string): WxError {
  const seen = ipNotWhitelisted(errmsg);
  const who = seen !== undefined ? `from ${seen}, an address` : 'from an address';
  return new WxError(
    `The API saw this call come ${who} that is not on the account's IP whitelist (${errcodeDetail(40164, errmsg)}). ` +
      'Add it to the whitelist in the Official Account settings (Development > Basic configuration), or, from another network ' +
      '(a laptop, an office, a CI runner), go through a forward proxy on a whitelisted server: --proxy http://host:port, ' +
      "the config key proxy, or HTTPS_PROXY. Through a proxy, the address the API sees is its server's.",
    ExitCode.Credentials,
    { errcode: 40164, errmsg },
  );
}
