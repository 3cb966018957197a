import { describe, expect, it } from 'vitest';
import { ApiClient, DEFAULT_RETRY_POLICY, type TokenSource } from '../src/api/client.js';
import { fetchAuthorizerInfo, fetchAuthorizerPage, fetchAuthorizerToken } from '../src/api/endpoints/component.js';
import { ProvidedTokens, type TokenProvider } from '../src/api/token-sources.js';
import { WxError } from '../src/errors.js';
import { generatedFollowers } from './fake-api/followers.js';
import {
  FAKE_COMPONENT_APPID,
  FAKE_COMPONENT_SECRET,
  FAKE_COMPONENT_TOKEN,
  FAKE_VERIFY_TICKET,
  generatedAuthorizers,
  type FakePlatformOptions,
} from './fake-api/platform.js';
import type { FakeApi } from './fake-api/server.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

/** A token that is never renewed: what the API answers is what the test sees. */
function fixedToken(value: string): TokenSource {
  return {
    token: async () => ({ value, generation: 0 }),
    renew: async (_refused, refusal) => {
      throw refusal;
    },
    isSuperseded: () => false,
    discard: async () => undefined,
    refusedAfterRenewal: (refusal) => refusal,
  };
}

function clientOf(api: FakeApi, tokens: TokenSource): ApiClient {
  return new ApiClient({
    baseUrl: new URL(api.url),
    timeoutMs: 5_000,
    tokens,
    userAgent: 'test',
    retry: { ...DEFAULT_RETRY_POLICY, retries: 1, delayScale: 0 },
  });
}

const authorizers = generatedAuthorizers(3);
const [first, second, third] = authorizers as [(typeof authorizers)[0], (typeof authorizers)[0], (typeof authorizers)[0]];

function platform(overrides: Partial<FakePlatformOptions> = {}): FakePlatformOptions {
  return {
    componentAppid: FAKE_COMPONENT_APPID,
    componentToken: FAKE_COMPONENT_TOKEN,
    authorizers: [
      { ...first, followers: generatedFollowers(7) },
      { ...second, funcScopes: [1, 3], serviceType: 0, verifyType: -1 },
      { ...third, refreshRefused: true },
    ],
    ...overrides,
  };
}

/** The WxError a promise is refused with. */
async function refusal(promise: Promise<unknown>): Promise<WxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof WxError)) throw new Error(`expected a WxError, got ${String(error)}`);
  return error;
}

describe('the platform endpoints against the fake', () => {
  it('list a page, an account info with its scopes, and an authorizer token that reads that account own followers', async () => {
    const api = await fake({ platform: platform() });
    const client = clientOf(api, fixedToken(FAKE_COMPONENT_TOKEN));
    const secrets: string[] = [];
    const keep = (secret: string): void => {
      secrets.push(secret);
    };
    const page = await fetchAuthorizerPage(client, { componentAppid: FAKE_COMPONENT_APPID, offset: 1, count: 2 }, keep);
    expect(page).toEqual({
      totalCount: 3,
      entries: [second, third].map((each) => ({ appid: each.appid, refreshToken: each.refreshToken, authTime: each.authTime })),
    });
    expect(secrets).toEqual([second.refreshToken, third.refreshToken]);
    const call = api.calls.at(-1);
    expect(call?.query.get('component_access_token')).toBe(FAKE_COMPONENT_TOKEN);
    expect(call?.query.has('access_token')).toBe(false);
    expect(JSON.parse(call?.body ?? '')).toEqual({ component_appid: FAKE_COMPONENT_APPID, offset: 1, count: 2 });

    const info = await fetchAuthorizerInfo(client, { componentAppid: FAKE_COMPONENT_APPID, authorizerAppid: second.appid }, keep);
    expect(info).toEqual({
      appid: second.appid,
      name: second.nickName,
      serviceType: 0,
      verifyType: -1,
      scopes: [1, 3],
      userManagement: false,
    });
    const granted = await fetchAuthorizerInfo(client, { componentAppid: FAKE_COMPONENT_APPID, authorizerAppid: first.appid }, keep);
    expect(granted.userManagement).toBe(true);

    const token = await fetchAuthorizerToken(
      client,
      { componentAppid: FAKE_COMPONENT_APPID, authorizerAppid: first.appid, refreshToken: first.refreshToken },
      keep,
    );
    expect(token.expiresInSeconds).toBe(7200);
    expect(secrets).toContain(token.accessToken);
    const own = await clientOf(api, fixedToken(token.accessToken)).call({ method: 'GET', path: '/cgi-bin/user/get' }, (answer) => answer);
    expect(own['total']).toBe(7);
  });

  it('say 61023, 61003, 61004 and an expired component token in words, with no refresh token in them', async () => {
    const api = await fake({ platform: platform({ expiredComponentTokens: ['EXPIRED_COMPONENT_TOKEN_0123456789'] }) });
    const client = clientOf(api, fixedToken(FAKE_COMPONENT_TOKEN));
    const asked = { componentAppid: FAKE_COMPONENT_APPID, authorizerAppid: third.appid, refreshToken: third.refreshToken };
    const refused = await refusal(fetchAuthorizerToken(client, asked, () => undefined));
    expect([refused.errcode, refused.exitCode]).toEqual([61023, 3]);
    expect(refused.message).toMatch(/must authorize the platform again/);
    const withdrawn = await refusal(
      fetchAuthorizerInfo(client, { componentAppid: FAKE_COMPONENT_APPID, authorizerAppid: 'wx0000000000000000' }, () => undefined),
    );
    expect(withdrawn.errcode).toBe(61003);
    const expired = await refusal(
      fetchAuthorizerPage(
        clientOf(api, fixedToken('EXPIRED_COMPONENT_TOKEN_0123456789')),
        { componentAppid: FAKE_COMPONENT_APPID, offset: 0 },
        () => undefined,
      ),
    );
    expect(expired.errcode).toBe(42001);

    const offList = await fake({ platform: platform({ notWhitelisted: '203.0.113.9' }) });
    const ip = await refusal(
      fetchAuthorizerPage(
        clientOf(offList, fixedToken(FAKE_COMPONENT_TOKEN)),
        { componentAppid: FAKE_COMPONENT_APPID, offset: 0 },
        () => undefined,
      ),
    );
    expect([ip.errcode, ip.exitCode]).toEqual([61004, 3]);
    expect(ip.message).toMatch(/from 203\.0\.113\.9, an address that is not on the third-party platform's IP whitelist/);
    for (const error of [refused, withdrawn, expired, ip]) {
      for (const each of authorizers) expect(error.message).not.toContain(each.refreshToken);
    }
  });

  it('issue component tokens to the secret and the verify ticket alone (api_component_token: the platform server, never the tool, calls it)', async () => {
    const api = await fake({ platform: platform() });
    const client = clientOf(api, fixedToken('unused-token-0123456789'));
    const ask = (ticket: string) =>
      client.send(
        {
          method: 'POST',
          path: '/cgi-bin/component/api_component_token',
          body: { component_appid: FAKE_COMPONENT_APPID, component_appsecret: FAKE_COMPONENT_SECRET, component_verify_ticket: ticket },
        },
        (answer) => answer,
      );
    const issued = await ask(FAKE_VERIFY_TICKET);
    const page = await fetchAuthorizerPage(
      clientOf(api, fixedToken(String(issued['component_access_token']))),
      { componentAppid: FAKE_COMPONENT_APPID, offset: 0 },
      () => undefined,
    );
    expect(page.totalCount).toBe(3);
    expect((await refusal(ask('ticket@@@stale'))).errcode).toBe(61008);
  });

  it('renew a refused component token through its provider, asked again with refresh', async () => {
    const api = await fake({ platform: platform({ expiredComponentTokens: ['EXPIRED_COMPONENT_TOKEN_0123456789'] }) });
    const asks: boolean[] = [];
    const provider: TokenProvider = {
      name: 'the test provider',
      refreshHint: 'refresh=1',
      get: async (refresh) => {
        asks.push(refresh);
        return { value: refresh ? FAKE_COMPONENT_TOKEN : 'EXPIRED_COMPONENT_TOKEN_0123456789', expiresInSeconds: undefined };
      },
    };
    const client = clientOf(api, new ProvidedTokens(provider, () => undefined));
    const page = await fetchAuthorizerPage(client, { componentAppid: FAKE_COMPONENT_APPID, offset: 0 }, () => undefined);
    expect(page.entries).toHaveLength(3);
    expect(asks).toEqual([false, true]);
  });

  it('meet the fake faults: an HTML page on the list stops it, with no token shown', async () => {
    const api = await fake({
      platform: platform(),
      fault: (call) =>
        call.path === '/cgi-bin/component/api_get_authorizer_list'
          ? { kind: 'raw', body: `<html>sign in ${FAKE_COMPONENT_TOKEN}</html>`, contentType: 'text/html' }
          : undefined,
    });
    const error = await refusal(
      fetchAuthorizerPage(
        clientOf(api, fixedToken(FAKE_COMPONENT_TOKEN)),
        { componentAppid: FAKE_COMPONENT_APPID, offset: 0 },
        () => undefined,
      ),
    );
    expect(error.message).toMatch(/is an HTML page/);
    expect(error.message).not.toContain(FAKE_COMPONENT_TOKEN);
  });
});
