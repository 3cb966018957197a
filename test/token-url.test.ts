import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProvidedTokens, type ProvidedToken, type TokenProvider } from '../src/api/token-sources.js';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_TOKEN } from './fake-api/server.js';
import { cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';

/** With a token URL, the tool never mints a token. */
const fake = useFakes((apis) => {
  for (const api of apis) {
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token' || call.path === '/cgi-bin/token')).toEqual([]);
  }
});

interface TokenService {
  readonly url: string;
  readonly port: number;
  /** Each request's path and query, and its Authorization header. */
  readonly asked: { url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

type Answer = (request: IncomingMessage, index: number) => { status?: number; body: string };

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});

/** A company's token service on 127.0.0.1, as a central token server would run one. */
async function tokenService(answer: Answer): Promise<TokenService> {
  const asked: TokenService['asked'] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    asked.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const { status, body } = answer(request, asked.length);
    response.writeHead(status ?? 200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  closing.push(close);
  return { url: `http://127.0.0.1:${port}`, port, asked, close };
}

async function proxy(): Promise<TestProxy> {
  const started = await startProxy();
  closing.push(() => started.close());
  return started;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env: cleanEnv(await tempDir(), env) });
}

describe('--token-url', () => {
  it('GETs the URL with {appid} filled in and WX_TOKEN_URL_AUTH as Authorization, takes a bare token, caches nothing', async () => {
    const api = await fake({ followers: 23_000 });
    const service = await tokenService(() => ({ body: `${FAKE_TOKEN}\n` }));
    const result = await run(
      ['export', '--base-url', api.url, '--appid', FAKE_APPID, '--token-url', `${service.url}/wx/{appid}/token?key=K1`],
      {
        WX_TOKEN_URL_AUTH: 'Bearer SERVICE_KEY_do_not_show',
      },
    );
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(service.asked).toEqual([{ url: `/wx/${FAKE_APPID}/token?key=K1`, authorization: 'Bearer SERVICE_KEY_do_not_show' }]);
  });

  it('is asked again with refresh=1 after a refusal, takes JSON, and a second refusal is exit 3', async () => {
    const api = await fake({ followers: 23_000 });
    const service = await tokenService((_request, index) => ({
      body: JSON.stringify({ access_token: index === 1 ? 'STALE_TOKEN_0123456789abcdef' : FAKE_TOKEN, expires_in: 7200 }),
    }));
    const result = await run(['export', '--base-url', api.url], { WX_TOKEN_URL: `${service.url}/token?app=shop` });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(service.asked.map((asked) => asked.url)).toEqual(['/token?app=shop', '/token?app=shop&refresh=1']);

    const refusing = await tokenService(() => ({ body: 'ALWAYS_REFUSED_0123456789abcdef' }));
    const refused = await run(['token', '--base-url', api.url, '--token-url', `${refusing.url}/token`]);
    // `token` makes no call: the token is printed as the service gave it.
    expect(refused.code).toBe(0);
    const exported = await run(['export', '--base-url', api.url, '--token-url', `${refusing.url}/token`]);
    expect(exported.code).toBe(3);
    expect(exported.stderr).toMatch(
      new RegExp(`token service ${refusing.url}/token \\(from --token-url\\) gave when asked again \\(refresh=1\\)`),
    );
    expect(exported.stderr).not.toContain('ALWAYS_REFUSED');
    expect(refusing.asked.map((asked) => asked.url)).toEqual(['/token', '/token', '/token?refresh=1']);
  });

  it.each([
    [401, 'no key', /refused the request \(HTTP 401\)\. Check WX_TOKEN_URL_AUTH, sent as the Authorization header \(none is set\)/],
    [200, 'Internal error: password=hunter2 SECRET_IN_BODY', /answered a line that is not a token\./],
    [404, 'not here', /answered HTTP 404: it does not take this request\. Check --token-url/],
  ])('answering HTTP %i %j is exit 3, the body never shown', async (status, body, message) => {
    const api = await fake({ followers: 3 });
    const service = await tokenService(() => ({ status, body }));
    const result = await run(['export', '--base-url', api.url, '--token-url', `${service.url}/token?key=QUERY_KEY`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/hunter2|SECRET_IN_BODY|QUERY_KEY/);
    expect(api.calls).toEqual([]);
  });

  it('goes through the proxy as the API does, and straight to a host that NO_PROXY lists', async () => {
    const api = await fake({ followers: 3 });
    const service = await tokenService(() => ({ body: FAKE_TOKEN }));
    const through = await proxy();
    const args = ['export', '--base-url', api.url, '--token-url', `${service.url}/token`];
    const proxied = await run(args, { HTTP_PROXY: through.url });
    expect([proxied.code, proxied.stderr]).toEqual([0, '']);
    expect(through.forwarded).toContain(`GET ${service.url}/token HTTP/1.1`);
    expect(through.forwarded.some((line) => line.startsWith(`GET ${api.url}/cgi-bin/user/get?`))).toBe(true);

    const direct = await proxy();
    const listed = await run(args, { HTTP_PROXY: direct.url, NO_PROXY: `127.0.0.1:${service.port}` });
    expect([listed.code, listed.stderr]).toEqual([0, '']);
    expect(service.asked).toHaveLength(2);
    // The API still went through it; the token service did not.
    expect(direct.forwarded.some((line) => line.includes('/cgi-bin/user/get'))).toBe(true);
    expect(direct.forwarded.some((line) => line.includes('/token '))).toBe(false);
  });

  it('is refused before any call: {appid} without an AppID, plain http to another host, a user in the URL', async () => {
    const api = await fake({ followers: 3 });
    for (const [url, message] of [
      ['https://tokens.example/wx/{appid}', /has \{appid\} in it, but no AppID is known/],
      ['http://tokens.example/wx', /must use https:\/\/ \(http:\/\/ only to a loopback address/],
      ['https://me:PASSWORD_x@tokens.example/wx', /carries a user or password/],
    ] as const) {
      const result = await run(['export', '--base-url', api.url, '--token-url', url]);
      expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(message)]);
      expect(result.stderr).not.toContain('PASSWORD_x');
    }
    expect(api.calls).toEqual([]);
  });
});

/** A provider whose answers the test writes, and which counts its asks. */
class ScriptedProvider implements TokenProvider {
  readonly name = 'the scripted provider';
  readonly refreshHint = 'refresh';
  readonly asks: boolean[] = [];
  readonly #answer: (ask: number) => ProvidedToken;

  constructor(answer: (ask: number) => ProvidedToken) {
    this.#answer = answer;
  }

  async get(refresh: boolean): Promise<ProvidedToken> {
    this.asks.push(refresh);
    return this.#answer(this.asks.length);
  }
}

describe('tokens from a provider', () => {
  it('are asked for again 5 minutes before a 2-hour token runs out, and a tenth of the life before a short one', async () => {
    let now = 0;
    const provider = new ScriptedProvider((ask) => ({ value: `T${ask}`, expiresInSeconds: ask === 1 ? 7200 : 60 }));
    const tokens = new ProvidedTokens(provider, () => undefined, { now: () => now });
    expect((await tokens.token()).value).toBe('T1');
    now = 7200_000 - 300_000 - 1;
    expect((await tokens.token()).value).toBe('T1');
    now += 1;
    expect((await tokens.token()).value).toBe('T2');
    const asked = now;
    now = asked + 54_000 - 1;
    expect((await tokens.token()).value).toBe('T2');
    now = asked + 54_000;
    expect((await tokens.token()).value).toBe('T3');
    expect(provider.asks).toEqual([false, false, false]);
  });

  it('share one ask among the calls refused with the same token, and register every token as a secret', async () => {
    const secrets: string[] = [];
    const provider = new ScriptedProvider((ask) => ({ value: `TOKEN_${ask}`, expiresInSeconds: undefined }));
    const tokens = new ProvidedTokens(provider, (secret) => secrets.push(secret));
    const held = await tokens.token();
    const [first, second] = await Promise.all([tokens.renew(held), tokens.renew(held)]);
    expect([first.value, second.value]).toEqual(['TOKEN_2', 'TOKEN_2']);
    expect(tokens.isSuperseded(held)).toBe(true);
    expect(provider.asks).toEqual([false, true]);
    expect(secrets).toEqual(['TOKEN_1', 'TOKEN_2']);
  });
});
