import { shown, usageError } from '../errors.js';
import { DETAILS_LANGUAGES, isOpenidShape, type DetailsLanguage } from '../openid.js';
import { isLoopback } from '../api/proxy.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from '../out/formats.js';

export const DEFAULT_BASE_URL = 'https://api.weixin.qq.com';
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Retries of a request that failed for a passing reason. */
export const DEFAULT_RETRIES = 5;
/** The longest a timer can wait (24.8 days): Node fires a longer one at once, with a warning. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The platform's AppIDs are 'wx' and 16 hex digits; any letters and digits are let through (and
 * a length a little either side), so that only a value that cannot be an AppID is refused: a
 * pasted space, a quote, a terminal escape, the AppSecret in the wrong place.
 */
const APPID = /^wx[A-Za-z0-9]{12,24}$/;

/** Checked before any call: a wrong AppID costs a stable_token call and reads as a refused account. */
export function parseAppid(value: string, origin: string): string {
  if (!APPID.test(value)) {
    throw usageError(
      `The AppID from ${origin} does not look like one: an AppID is 'wx' and 16 letters or digits, such as wx1234567890abcdef (Official Account settings, Development > Basic configuration); got '${shown(value, 40)}'.`,
    );
  }
  return value;
}

export function parseLanguage(value: string): DetailsLanguage {
  const known: readonly string[] = DETAILS_LANGUAGES;
  if (!known.includes(value)) throw usageError(`--lang must be one of ${DETAILS_LANGUAGES.join(', ')}; got '${shown(value)}'.`);
  return value as DetailsLanguage;
}

export function parseFormat(value: string): FormatName {
  if (!isFormatName(value)) throw usageError(`--format must be one of ${FORMAT_NAMES.join(', ')}; got '${shown(value)}'.`);
  return value;
}

/** --bom is for a spreadsheet's CSV: in NDJSON or text it would be garbage before the first record. */
export function checkBom(bom: boolean | undefined, format: FormatName | undefined): void {
  if (bom === true && format !== 'csv') {
    throw usageError(`--bom goes with --format csv (for Excel); ${format ?? 'the default format'} readers would take the BOM for data.`);
  }
}

/** Checked before any request: a cursor the API does not know costs a call of the daily quota. */
export function parseResume(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isOpenidShape(value)) {
    throw usageError(
      `--resume takes an OpenID as printed by an earlier run (letters, digits, '-' and '_', at most 64); got '${shown(value)}'.`,
    );
  }
  return value;
}

export function parseCount(flag: string, value: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw usageError(`${flag} takes a whole number, 0 or more; got '${shown(value)}'.`);
  return atMost(flag, value, max);
}

/** `why` says why the bound is what it is, for a value past it. */
export function parsePositiveInteger(
  flag: string,
  value: string | undefined,
  max = Number.MAX_SAFE_INTEGER,
  why?: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw usageError(`${flag} takes a whole number greater than 0; got '${shown(value)}'.`);
  }
  return atMost(flag, value, max, why);
}

/** A whole number past the bound, or past what a double holds exactly, is too large: not "not a number". */
function atMost(flag: string, digits: string, max: number, why?: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value) || value > max) {
    throw usageError(`${flag} is too large: it is at most ${max}${why === undefined ? '' : ` (${why})`}; got ${shown(digits, 40)}.`);
  }
  return value;
}

/** Loopback addresses only: over plain http the token would cross the network in clear text. */
export function parseBaseUrl(value: string, origin: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`The API base URL from ${origin} is not a URL: '${shown(value)}'.`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw usageError(`The API base URL from ${origin} must have no query, fragment or user: '${url.origin}'.`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  throw usageError(
    `The API base URL from ${origin} must use https:// (http:// only to a loopback address such as 127.0.0.1): the access token would travel in clear text to '${url.origin}'.`,
  );
}

/** An AppID of the right shape, to check a token URL's {appid} template where no AppID is at hand (`config set`). */
export const EXAMPLE_APPID = 'wx1234567890abcdef';

/**
 * A token service's URL, {appid} filled in: https://, or http:// to a loopback address (the token
 * would cross the network in clear text). No user or password in it: the service's credentials
 * go in WX_TOKEN_URL_AUTH. Never quoted back: its query may carry a key.
 */
export function parseTokenUrl(value: string, origin: string, appid: string | undefined): URL {
  if (value.includes('{appid}') && appid === undefined) {
    throw usageError(
      `The token URL from ${origin} has {appid} in it, but no AppID is known: give it with --appid, WX_APPID or \`wx-followers config set appid ...\`.`,
    );
  }
  const filled = appid === undefined ? value : value.split('{appid}').join(appid);
  return checkedTokenUrl(filled, origin, { placeholder: '{appid} where the AppID goes', authorizationEnv: 'WX_TOKEN_URL_AUTH' });
}

/**
 * The platform's component token URL, {component_appid} filled in, held to the rules of a token
 * URL. {appid} is refused: it names an authorized account, which the platform's token has none of.
 */
export function parseComponentTokenUrl(value: string, origin: string, componentAppid: string): URL {
  if (value.includes('{appid}')) {
    throw usageError(
      `The component token URL from ${origin} has {appid} in it: the platform's token belongs to no account. Use {component_appid} for the platform's AppID.`,
    );
  }
  return checkedTokenUrl(value.split('{component_appid}').join(componentAppid), origin, {
    placeholder: "{component_appid} where the platform's AppID goes",
    authorizationEnv: 'WX_COMPONENT_TOKEN_URL_AUTH',
  });
}

function checkedTokenUrl(filled: string, origin: string, words: { placeholder: string; authorizationEnv: string }): URL {
  const { placeholder, authorizationEnv } = words;
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw usageError(`The token URL from ${origin} is not a URL: give it as https://host/path (with ${placeholder}).`);
  }
  if (url.username !== '' || url.password !== '') {
    throw usageError(
      `The token URL from ${origin} carries a user or password: give the service's credentials in ${authorizationEnv} (sent as the Authorization header) instead.`,
    );
  }
  if (url.hash !== '') throw usageError(`The token URL from ${origin} must have no #fragment.`);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return url;
  throw usageError(
    `The token URL from ${origin} must use https:// (http:// only to a loopback address such as 127.0.0.1): the token would travel in clear text from ${url.origin}.`,
  );
}
