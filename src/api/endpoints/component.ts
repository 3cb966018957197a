import { malformedAnswer, type WxError } from '../../errors.js';
import type { ApiClient, ApiRequest, JsonObject } from '../client.js';

/**
 * The third-party platform's endpoints (WeChat Open Platform, 第三方平台), called with the
 * platform's component access token. Refresh tokens are secrets: each is handed to `onSecret`
 * as soon as it is read, before anything else sees the answer.
 */

/** The most accounts one api_get_authorizer_list call may ask for. */
export const AUTHORIZER_PAGE_SIZE = 500;

/** Function scope 2 (funcscope_category): user management, which user/get needs. */
const USER_MANAGEMENT_SCOPE = 2;

export interface AuthorizerEntry {
  appid: string;
  /** A secret: what api_authorizer_token takes to give this account's token. */
  refreshToken: string;
  /** Unix seconds. */
  authTime: number;
}

export interface AuthorizerPage {
  /** Accounts that authorized the platform, all pages together. */
  totalCount: number;
  entries: AuthorizerEntry[];
}

export interface AuthorizerInfo {
  appid: string;
  /** nick_name: the account's name, as its owner set it (outside text). */
  name: string;
  /** service_type_info.id: 0 and 1 subscription accounts, 2 service accounts. */
  serviceType: number | undefined;
  /** verify_type_info.id: -1 unverified, 0 WeChat verification, 1 to 5 others. */
  verifyType: number | undefined;
  /** The function scopes granted (funcscope_category ids). */
  scopes: number[];
  /** Whether scope 2, user management, is among them: without it user/get is refused. */
  userManagement: boolean;
}

export interface AuthorizerToken {
  accessToken: string;
  expiresInSeconds: number | undefined;
  /** A secret: the refresh token the answer carries, which may be a new one (then the one to use from now on). */
  refreshToken: string | undefined;
}

/** The platform's calls carry the component token in their own parameter. */
function componentRequest(path: string, body: JsonObject): ApiRequest {
  return { method: 'POST', path, body, tokenParameter: 'component_access_token' };
}

const LIST_PATH = '/cgi-bin/component/api_get_authorizer_list';
const INFO_PATH = '/cgi-bin/component/api_get_authorizer_info';
const TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';

/** One page of `POST /cgi-bin/component/api_get_authorizer_list`: `count` (at most 500) accounts from `offset`. */
export function fetchAuthorizerPage(
  client: ApiClient,
  page: { componentAppid: string; offset: number; count?: number },
  onSecret: (secret: string) => void,
): Promise<AuthorizerPage> {
  const body = { component_appid: page.componentAppid, offset: page.offset, count: page.count ?? AUTHORIZER_PAGE_SIZE };
  return client.call(componentRequest(LIST_PATH, body), (answer) => parseAuthorizerPage(answer, onSecret));
}

function parseAuthorizerPage(answer: JsonObject, onSecret: (secret: string) => void): AuthorizerPage {
  const { total_count: totalCount, list } = answer;
  if (!isCount(totalCount)) throw malformed(LIST_PATH, '`total_count` is not a whole number');
  if (!Array.isArray(list)) throw malformed(LIST_PATH, '`list` is not a list');
  const entries = list.map((item: unknown): AuthorizerEntry => {
    if (typeof item !== 'object' || item === null) throw malformed(LIST_PATH, 'an entry of `list` is not an object');
    const { authorizer_appid: appid, refresh_token: refreshToken, auth_time: authTime } = item as JsonObject;
    // First, so that no message about this entry can carry it.
    if (typeof refreshToken === 'string' && refreshToken !== '') onSecret(refreshToken);
    if (!isAppidShape(appid)) throw malformed(LIST_PATH, 'an entry has no authorizer_appid shaped like an AppID');
    if (typeof refreshToken !== 'string' || refreshToken === '') throw malformed(LIST_PATH, `the entry of ${appid} has no refresh_token`);
    if (!isCount(authTime)) throw malformed(LIST_PATH, `the entry of ${appid} has no auth_time in seconds`);
    return { appid, refreshToken, authTime };
  });
  return { totalCount, entries };
}

/** `POST /cgi-bin/component/api_get_authorizer_info`: an account's name, type, verification and the scopes it granted. */
export function fetchAuthorizerInfo(
  client: ApiClient,
  asked: { componentAppid: string; authorizerAppid: string },
  onSecret: (secret: string) => void,
  signal?: AbortSignal,
): Promise<AuthorizerInfo> {
  const body = { component_appid: asked.componentAppid, authorizer_appid: asked.authorizerAppid };
  return client.call(componentRequest(INFO_PATH, body), (answer) => parseAuthorizerInfo(answer, asked.authorizerAppid, onSecret), signal);
}

function parseAuthorizerInfo(answer: JsonObject, appid: string, onSecret: (secret: string) => void): AuthorizerInfo {
  const { authorizer_info: info, authorization_info: authorization } = answer;
  if (!isObject(authorization)) throw malformed(INFO_PATH, `the answer for ${appid} has no authorization_info`);
  // The answer carries the refresh token again.
  const refreshToken = authorization['authorizer_refresh_token'];
  if (typeof refreshToken === 'string' && refreshToken !== '') onSecret(refreshToken);
  if (!isObject(info)) throw malformed(INFO_PATH, `the answer for ${appid} has no authorizer_info`);
  const name = info['nick_name'];
  if (typeof name !== 'string') throw malformed(INFO_PATH, `the answer for ${appid} has no nick_name`);
  const scopes = scopesOf(authorization['func_info'], appid);
  return {
    appid,
    name,
    serviceType: idOf(info['service_type_info']),
    verifyType: idOf(info['verify_type_info']),
    scopes,
    userManagement: scopes.includes(USER_MANAGEMENT_SCOPE),
  };
}

function scopesOf(funcInfo: unknown, appid: string): number[] {
  if (funcInfo === undefined || funcInfo === null) return [];
  if (!Array.isArray(funcInfo)) throw malformed(INFO_PATH, `the func_info for ${appid} is not a list`);
  const scopes: number[] = [];
  for (const entry of funcInfo) {
    const id = isObject(entry) ? idOf(entry['funcscope_category']) : undefined;
    if (id === undefined) throw malformed(INFO_PATH, `an entry of the func_info for ${appid} has no funcscope_category id`);
    scopes.push(id);
  }
  return scopes;
}

/**
 * `POST /cgi-bin/component/api_authorizer_token`: an account's authorizer access token, from the
 * refresh token the list gave. It may retire the token the platform's server holds: the
 * platform's own server is the better source of these tokens.
 */
export function fetchAuthorizerToken(
  client: ApiClient,
  asked: { componentAppid: string; authorizerAppid: string; refreshToken: string },
  onSecret: (secret: string) => void,
  signal?: AbortSignal,
): Promise<AuthorizerToken> {
  const body = {
    component_appid: asked.componentAppid,
    authorizer_appid: asked.authorizerAppid,
    authorizer_refresh_token: asked.refreshToken,
  };
  return client.call(componentRequest(TOKEN_PATH, body), (answer) => parseAuthorizerToken(answer, asked.authorizerAppid, onSecret), signal);
}

function parseAuthorizerToken(answer: JsonObject, appid: string, onSecret: (secret: string) => void): AuthorizerToken {
  const { authorizer_access_token: accessToken, expires_in: expiresIn, authorizer_refresh_token: refreshToken } = answer;
  if (typeof accessToken === 'string' && accessToken !== '') onSecret(accessToken);
  if (typeof refreshToken === 'string' && refreshToken !== '') onSecret(refreshToken);
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw malformed(TOKEN_PATH, `the answer for ${appid} has no authorizer_access_token`);
  }
  return {
    accessToken,
    expiresInSeconds: isCount(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
    refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined,
  };
}

/** An AppID as the platform gives them ('wx' and 16 hex digits), a little either side let through. */
function isAppidShape(value: unknown): value is string {
  return typeof value === 'string' && /^wx[A-Za-z0-9]{12,24}$/.test(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{"id": N}`, as the API gives types and scopes. */
function idOf(value: unknown): number | undefined {
  if (!isObject(value)) return undefined;
  const id = value['id'];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

function malformed(path: string, what: string): WxError {
  return malformedAnswer(`to ${path}`, what);
}
