import { isIP } from 'node:net';
import { ExitCode, WxError, errcodeDetail, type RetryHint } from '../errors.js';

interface ErrcodeAdvice {
  what: string;
  exitCode: ExitCode;
  todo: string;
  /** Every account run through the third-party platform would meet it: a run over them starts no other. */
  platformWide?: boolean;
}

const TOKEN_TODO = 'Give a fresh access token.';

/** 61005, 61006: the platform's server renews its component token with the ticket WeChat pushes to it. */
const VERIFY_TICKET_TODO =
  "WeChat pushes a fresh component_verify_ticket to the platform's authorization event URL (授权事件接收 URL) every 10 minutes, " +
  "and the platform's server renews its component token with the latest one: check that the server receives and keeps those pushes " +
  "(WeChat Open Platform, the platform's development settings), then run again once its component token is renewed.";

/** Where the administrator of an account grants a platform what it asks: an account's own step, whatever the API. */
const GRANT_USER_MANAGEMENT =
  "its administrator must authorize the platform again with user management (用户管理权限, function scope 2) ticked, on the platform's authorization page " +
  '(`wx-followers accounts --with-info` shows which accounts granted it)';

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
    61003,
    {
      what: 'This account withdrew its authorization of the third-party platform (or never gave it)',
      exitCode: ExitCode.Credentials,
      todo:
        'Remove it from --authorized: `wx-followers accounts` lists the accounts that authorized the platform, and --authorized alone takes only those. ' +
        "To export it again, its administrator must first authorize the platform again (the platform's authorization page).",
    },
  ],
  [
    61023,
    {
      what: "The API refused the account's authorizer refresh token",
      exitCode: ExitCode.Credentials,
      todo:
        "Its administrator must authorize the platform again (the platform's authorization page): that gives a new refresh token, " +
        "which the next run reads from the platform's list. Running again before that meets the same refusal.",
    },
  ],
  [
    61005,
    {
      what: "The third-party platform's component_verify_ticket has expired, so the platform cannot renew its component token",
      exitCode: ExitCode.Credentials,
      todo: VERIFY_TICKET_TODO,
      platformWide: true,
    },
  ],
  [
    61006,
    {
      what: "The third-party platform's component_verify_ticket is not valid, so the platform cannot renew its component token",
      exitCode: ExitCode.Credentials,
      todo: VERIFY_TICKET_TODO,
      platformWide: true,
    },
  ],
  [
    61007,
    {
      what: 'This account has not granted the third-party platform the permission this API needs',
      exitCode: ExitCode.Credentials,
      todo: `For the follower list, tags and details that is user management: ${GRANT_USER_MANAGEMENT}.`,
    },
  ],
  [
    61011,
    {
      what: 'The API does not know this third-party platform (invalid component)',
      exitCode: ExitCode.Credentials,
      todo:
        "Check the platform's AppID (--component-appid, WX_COMPONENT_APPID or the config key component-appid) on the WeChat Open Platform, " +
        "and that the component token command or URL gives that platform's token.",
      platformWide: true,
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

/** An account withdrew its authorization of the third-party platform (or never gave it): that account is to be left out. */
export const AUTHORIZATION_WITHDRAWN = 61003;

export function isTokenRefusal(errcode: number | undefined): boolean {
  return errcode === 40001 || errcode === 40014 || errcode === 42001;
}

/**
 * The WxError of an errcode that `path` (the request's path, never its query) answered: what it
 * means and what to do, for the endpoint called where that differs (48001, 50001, 49003), and for
 * an account run through a third-party platform (`throughPlatform`) where that differs.
 */
export function errorForErrcode(errcode: number, errmsg: string, path: string, account: { throughPlatform?: boolean } = {}): WxError {
  if (errcode === 40164) return notWhitelisted(errmsg);
  if (errcode === 61004) return platformNotWhitelisted(errmsg);
  const advice =
    (account.throughPlatform === true ? platformAccountAdvice(errcode, path) : undefined) ??
    endpointAdvice(errcode, path) ??
    ADVICE.get(errcode);
  const detail = errcodeDetail(errcode, errmsg);
  if (advice === undefined) {
    return new WxError(`The WeChat API refused the call (${detail}).`, ExitCode.Api, { errcode, errmsg });
  }
  return new WxError(`${advice.what} (${detail}). ${advice.todo}`, advice.exitCode, {
    errcode,
    errmsg,
    retry: RETRIES.get(errcode),
    ...(advice.platformWide === true ? { platformWide: true } : {}),
  });
}

/**
 * 48001 or 50001 from user management for an account run through a third-party platform: most
 * often the scope the account did not grant the platform, which only its administrator can give;
 * verification comes second.
 */
function platformAccountAdvice(errcode: number, path: string): ErrcodeAdvice | undefined {
  const api = USER_MANAGEMENT.get(path);
  if ((errcode !== 48001 && errcode !== 50001) || api === undefined) return undefined;
  return {
    what: `The API refused ${path} to the third-party platform for this account`,
    exitCode: ExitCode.Credentials,
    todo:
      `${api} is part of user management, which this account has most likely not granted the platform: ${GRANT_USER_MANAGEMENT}. ` +
      'If it has granted it, the account must also be verified (认证): unverified subscription accounts cannot call it.',
  };
}

/** The endpoints of user management (用户管理), as messages name what they give. */
const USER_MANAGEMENT: ReadonlyMap<string, string> = new Map([
  ['/cgi-bin/user/get', 'The follower list'],
  ['/cgi-bin/user/tag/get', "A tag's follower list"],
  ['/cgi-bin/tags/members/getblacklist', 'The blacklist'],
  ['/cgi-bin/tags/get', 'The list of tags'],
  ['/cgi-bin/user/info/batchget', 'Asking for follower details (--with-info)'],
]);

/** The paged lists, whose calls carry a cursor: an OpenID of the list. */
const PAGED_LISTS = new Set(['/cgi-bin/user/get', '/cgi-bin/user/tag/get', '/cgi-bin/tags/members/getblacklist']);

const INTERFACE_PERMISSIONS = 'the interface permissions in the Official Account settings (Development > Interface permissions)';

/** Advice that depends on the endpoint that answered (shared/wechat-api.md), or undefined where it does not. */
function endpointAdvice(errcode: number, path: string): ErrcodeAdvice | undefined {
  const api = USER_MANAGEMENT.get(path);
  switch (errcode) {
    case 48001:
      return {
        what: `This Official Account has no permission for this API, ${path}`,
        exitCode: ExitCode.Credentials,
        todo:
          api === undefined
            ? `Check ${INTERFACE_PERMISSIONS}.`
            : `${api} needs a verified account (认证): unverified subscription accounts cannot call it. Verify the account, or export a verified one.` +
              (path === '/cgi-bin/user/info/batchget' ? ' Without --with-info, the export lists the OpenIDs alone.' : '') +
              ' For an account run through a third-party platform, it must also have granted the platform user management (function scope 2).',
      };
    case 50001:
      return {
        what: `This Official Account is not authorized for this API, ${path}`,
        exitCode: ExitCode.Credentials,
        todo:
          api === undefined
            ? `Check ${INTERFACE_PERMISSIONS}, and, for an account run through a third-party platform, what it granted the platform.`
            : `${api} is part of user management, which this account has not been granted: for an account run through a third-party platform, ` +
              `its administrator must grant the platform user management (function scope 2); otherwise check ${INTERFACE_PERMISSIONS}.`,
      };
    case 49003:
      return {
        what: 'The API says an OpenID this call carried belongs to another account',
        exitCode: ExitCode.Api,
        todo: otherAccountTodo(path),
      };
    default:
      return undefined;
  }
}

/** 49003: which OpenID of another account, and so what to check, depends on what the call carried. */
function otherAccountTodo(path: string): string {
  const sameAccount =
    'a token given (--access-token, WX_ACCESS_TOKEN, the config) and the AppID it is renewed from must be of the same account';
  if (PAGED_LISTS.has(path)) {
    return `The cursor is another account's: an OpenID given to --resume, or held by a --state file, from another account's export; or ${sameAccount}.`;
  }
  if (path === '/cgi-bin/user/info/batchget') {
    return `The OpenIDs come from the list this run fetched: the list and the details were asked with tokens of different accounts; ${sameAccount}.`;
  }
  return `Check that every credential given is the same account's: ${sameAccount}.`;
}

/**
 * The address a 40164's errmsg names ('invalid ip 203.0.113.7 ...'), or a 61004's ('... requestIP:
 * 203.0.113.7'), when it names one that is an IP address.
 */
export function ipNotWhitelisted(errmsg: string): string | undefined {
  const seen = /(?:invalid ip|requestIP:)\s*(\S+?),?(?:\s|$)/.exec(errmsg)?.[1];
  return seen !== undefined && isIP(seen) !== 0 ? seen : undefined;
}

/** 61004: the call came from an address off the third-party platform's own whitelist (not an account's). */
function platformNotWhitelisted(errmsg: string): WxError {
  const seen = ipNotWhitelisted(errmsg);
  const who = seen !== undefined ? `from ${seen}, an address` : 'from an address';
  return new WxError(
    `The API saw this call come ${who} that is not on the third-party platform's IP whitelist (${errcodeDetail(61004, errmsg)}). ` +
      "Add it to the platform's whitelist (WeChat Open Platform, the platform's development settings: 白名单), or go through a " +
      'forward proxy on a whitelisted server: --proxy http://host:port, the config key proxy, or HTTPS_PROXY.',
    ExitCode.Credentials,
    // Every account exported through the platform would meet it: a run over them starts no other.
    { errcode: 61004, errmsg, platformWide: true },
  );
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
