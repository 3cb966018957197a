import type { FollowerList } from './followers.js';

/** One account that authorized the fake's third-party platform. */
export interface FakeAuthorizer {
  appid: string;
  /** What api_get_authorizer_list hands out, and api_authorizer_token takes: a secret. */
  refreshToken: string;
  /** Unix seconds. */
  authTime: number;
  nickName?: string;
  /** service_type_info.id: 0 subscription, 1 subscription (upgraded), 2 service account (default). */
  serviceType?: number;
  /** verify_type_info.id: -1 unverified, 0 WeChat verified (default), 1 to 5 other verifications. */
  verifyType?: number;
  /** The function scopes granted (funcscope_category ids); default [1, 2, 3, 4]: 2 is user management. */
  funcScopes?: readonly number[];
  /** Its followers, which user/get serves to its authorizer tokens; default none. */
  followers?: FollowerList;
  /** An authorizer token the fake's user/get accepts as given (what the platform's server hands out). */
  token?: string;
  /** api_authorizer_token refuses its refresh token (61023): it must authorize again. */
  refreshRefused?: boolean;
  /** It withdrew the authorization since the list was read: info and token answer 61003. */
  withdrawn?: boolean;
  /** The authorizer tokens api_authorizer_token issues expire (42001) after this many follower-list calls. */
  tokenLifetimeCalls?: number;
  /**
   * Each api_authorizer_token answer hands out a new refresh token and retires the one it was
   * asked with (61023 after): a client must keep using the newest.
   */
  rotateRefreshToken?: boolean;
}

/** The fake's third-party platform (WeChat Open Platform): its component token and the accounts that authorized it. */
export interface FakePlatformOptions {
  componentAppid: string;
  /** A component token the fake accepts as given (what the platform's server hands out); it never expires. */
  componentToken: string;
  /** For api_component_token, which issues further component tokens: FAKE_COMPONENT_SECRET and FAKE_VERIFY_TICKET unless said. */
  componentSecret?: string;
  verifyTicket?: string;
  /** Component tokens answered 42001 (expired). */
  expiredComponentTokens?: readonly string[];
  authorizers: readonly FakeAuthorizer[];
  /** The IP the fake "sees" off the platform's whitelist: every component call is answered 61004 naming it. */
  notWhitelisted?: string;
}

export const FAKE_COMPONENT_APPID = 'wxc0c0c0c0c0c0c0c0';
export const FAKE_COMPONENT_TOKEN = 'FAKE_COMPONENT_TOKEN_valid_0123456789';
export const FAKE_COMPONENT_SECRET = 'FAKE_COMPONENT_SECRET_0123456789abcdef';
export const FAKE_VERIFY_TICKET = 'ticket@@@FAKE_VERIFY_TICKET_0123456789';

/** The most accounts one api_get_authorizer_list call gives. */
const MAX_LIST_COUNT = 500;

type ApiError = (errcode: number, errmsg: string) => object;

interface CallLike {
  path: string;
  method: string;
  query: URLSearchParams;
  body: string;
}

/**
 * The platform's endpoints (cgi-bin/component/...). Authorizer tokens it issues are handed to
 * `accept`, so that the follower list answers them with that account's followers.
 */
export class FakePlatform {
  readonly #options: FakePlatformOptions;
  readonly #apiError: ApiError;
  readonly #accept: (token: string, appid: string, lifetimeCalls: number | undefined) => void;
  /** The refresh token each authorizer's next api_authorizer_token must carry, where it was rotated. */
  readonly #currentRefresh = new Map<string, string>();
  readonly #byAppid: Map<string, FakeAuthorizer>;
  readonly #componentTokens = new Set<string>();
  #issued = 0;

  constructor(
    options: FakePlatformOptions,
    apiError: ApiError,
    accept: (token: string, appid: string, lifetimeCalls: number | undefined) => void,
  ) {
    this.#options = options;
    this.#apiError = apiError;
    this.#accept = accept;
    this.#byAppid = new Map(options.authorizers.map((authorizer) => [authorizer.appid, authorizer]));
    this.#componentTokens.add(options.componentToken);
  }

  static serves(path: string): boolean {
    return path.startsWith('/cgi-bin/component/');
  }

  route(call: CallLike): object {
    const { notWhitelisted } = this.#options;
    if (notWhitelisted !== undefined) {
      return this.#apiError(61004, `access clientip is not registered requestIP: ${notWhitelisted}`);
    }
    if (call.method !== 'POST') return this.#apiError(43002, 'require POST method');
    const body = parsed(call.body);
    if (body === undefined) return this.#apiError(47001, 'data format error');
    if (call.path === '/cgi-bin/component/api_component_token') return this.#issueComponentToken(body);
    const refused = this.#checkComponentToken(call.query.get('component_access_token'));
    if (refused !== undefined) return refused;
    if (body['component_appid'] !== this.#options.componentAppid) return this.#apiError(61005, 'component_appid is invalid');
    switch (call.path) {
      case '/cgi-bin/component/api_get_authorizer_list':
        return this.#list(body);
      case '/cgi-bin/component/api_get_authorizer_info':
        return this.#info(body);
      case '/cgi-bin/component/api_authorizer_token':
        return this.#authorizerToken(body);
      default:
        return this.#apiError(48001, `api unauthorized: ${call.path}`);
    }
  }

  #issueComponentToken(body: Record<string, unknown>): object {
    const { componentAppid, componentSecret = FAKE_COMPONENT_SECRET, verifyTicket = FAKE_VERIFY_TICKET } = this.#options;
    if (body['component_appid'] !== componentAppid) return this.#apiError(61005, 'component_appid is invalid');
    if (body['component_appsecret'] !== componentSecret) return this.#apiError(61006, 'component_appsecret is invalid');
    if (body['component_verify_ticket'] !== verifyTicket) {
      return this.#apiError(61008, 'component_verify_ticket is invalid');
    }
    this.#issued += 1;
    const token = `FAKE_COMPONENT_TOKEN_${this.#issued}_${'c'.repeat(80)}`;
    this.#componentTokens.add(token);
    return { component_access_token: token, expires_in: 7200 };
  }

  #checkComponentToken(given: string | null): object | undefined {
    if (given === null || given === '') return this.#apiError(41001, 'component_access_token missing');
    if (this.#options.expiredComponentTokens?.includes(given) === true) return this.#apiError(42001, 'component_access_token expired');
    if (!this.#componentTokens.has(given)) return this.#apiError(40001, 'invalid credential, access_token is invalid or not latest');
    return undefined;
  }

  #list(body: Record<string, unknown>): object {
    const { offset, count } = body;
    if (typeof offset !== 'number' || typeof count !== 'number' || offset < 0 || count < 1 || count > MAX_LIST_COUNT) {
      return this.#apiError(40097, 'invalid args: offset and count (at most 500)');
    }
    const { authorizers } = this.#options;
    return {
      total_count: authorizers.length,
      list: authorizers.slice(offset, offset + count).map((authorizer) => ({
        authorizer_appid: authorizer.appid,
        refresh_token: authorizer.refreshToken,
        auth_time: authorizer.authTime,
      })),
    };
  }

  #authorizerOf(body: Record<string, unknown>): FakeAuthorizer | object {
    const authorizer = this.#byAppid.get(String(body['authorizer_appid']));
    if (authorizer === undefined || authorizer.withdrawn === true) {
      return this.#apiError(61003, 'component is not authorized by this account');
    }
    return authorizer;
  }

  #info(body: Record<string, unknown>): object {
    const found = this.#authorizerOf(body);
    if (!('appid' in found)) return found;
    const authorizer = found as FakeAuthorizer;
    return {
      authorizer_info: {
        nick_name: authorizer.nickName ?? `Account ${authorizer.appid}`,
        head_img: 'http://wx.qlogo.cn/mmopen/fake/0',
        service_type_info: { id: authorizer.serviceType ?? 2 },
        verify_type_info: { id: authorizer.verifyType ?? 0 },
        user_name: `gh_${authorizer.appid.slice(2, 14)}`,
        principal_name: 'Fake Company Ltd.',
        alias: '',
        business_info: { open_store: 0, open_scan: 0, open_pay: 0, open_card: 0, open_shake: 0 },
        qrcode_url: 'http://mmbiz.qpic.cn/mmbiz/fake/0',
      },
      authorization_info: {
        authorizer_appid: authorizer.appid,
        // The real answer carries the refresh token here too: one more place it must not leak from.
        authorizer_refresh_token: authorizer.refreshToken,
        func_info: (authorizer.funcScopes ?? [1, 2, 3, 4]).map((id) => ({ funcscope_category: { id } })),
      },
    };
  }

  #authorizerToken(body: Record<string, unknown>): object {
    const found = this.#authorizerOf(body);
    if (!('appid' in found)) return found;
    const authorizer = found as FakeAuthorizer;
    const current = this.#currentRefresh.get(authorizer.appid) ?? authorizer.refreshToken;
    if (authorizer.refreshRefused === true || body['authorizer_refresh_token'] !== current) {
      return this.#apiError(61023, 'refresh_token is invalid');
    }
    this.#issued += 1;
    const token = `FAKE_AUTHORIZER_TOKEN_${authorizer.appid}_${this.#issued}_${'a'.repeat(60)}`;
    this.#accept(token, authorizer.appid, authorizer.tokenLifetimeCalls);
    let refreshToken = current;
    if (authorizer.rotateRefreshToken === true) {
      refreshToken = `refreshtoken@@@FAKE_ROTATED_${this.#issued}_${'r'.repeat(30)}`;
      this.#currentRefresh.set(authorizer.appid, refreshToken);
    }
    return { authorizer_access_token: token, expires_in: 7200, authorizer_refresh_token: refreshToken };
  }
}

/**
 * The platform of `npm run demo -- --serve`: four accounts with followers of their own, one that
 * did not grant user management.
 */
export function demoPlatform(followers: (count: number) => FollowerList): FakePlatformOptions {
  const authorizers = generatedAuthorizers(4).map((authorizer, index) => ({
    ...authorizer,
    followers: followers(1_000 * (index + 1)),
    ...(index === 2 ? { funcScopes: [1, 3], serviceType: 0, verifyType: -1 } : {}),
  }));
  return { componentAppid: FAKE_COMPONENT_APPID, componentToken: FAKE_COMPONENT_TOKEN, authorizers };
}

/** Authorizers numbered from 1: AppIDs, refresh tokens and names of their own, auth times a day apart. */
export function generatedAuthorizers(count: number, from = 1): FakeAuthorizer[] {
  return Array.from({ length: count }, (_, index) => {
    const number = from + index;
    return {
      appid: `wxa${number.toString(16).padStart(15, '0')}`,
      refreshToken: `refreshtoken@@@FAKE_REFRESH_${number}_${'r'.repeat(30)}`,
      authTime: 1_700_000_000 + number * 86_400,
      nickName: `公众号 ${number}`,
    };
  });
}

function parsed(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
