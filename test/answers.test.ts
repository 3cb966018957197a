import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { errorForErrcode } from '../src/api/errcodes.js';
import { ExitCode } from '../src/errors.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi, type Fault, type RecordedCall } from './fake-api/server.js';
import { generatedFollowers } from './fake-api/followers.js';
import { cleanEnv, exportFrom, resumeCursor, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

// Answers recorded from the real API and the gateways in front of it that are not the API's JSON:
// each says what it is (its Content-Type, its length, its start escaped) and what to check.
const fake = useFakes();

const APP = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };

function callsTo(api: FakeApi, path: string): RecordedCall[] {
  return api.calls.filter((call) => call.path === path);
}

/** The fault on every call of the follower list, and on nothing else. */
function onList(fault: Fault): (call: RecordedCall) => Fault | undefined {
  return (call) => (call.path === '/cgi-bin/user/get' ? fault : undefined);
}

describe('a 200 that is an HTML page (a captive portal, a gateway)', () => {
  const portal = '<!DOCTYPE html>\n<html><head><title>Wi-Fi sign-in</title></head><body>Please sign in to continue.</body></html>';

  it.each([
    ['text/html', 'text/html; charset=utf-8'],
    ['a Content-Type that says nothing of HTML', 'text/plain'],
  ])('(%s) stops at once with exit 5, saying what it is and what to check', async (_name, contentType) => {
    const api = await fake({ followers: 10, fault: onList({ kind: 'raw', body: portal, contentType }) });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    const bytes = Buffer.byteLength(portal);
    expect(result.stderr).toContain(
      `to /cgi-bin/user/get is an HTML page (HTTP 200, Content-Type ${contentType}, ${bytes} bytes: '${portal.slice(0, 80).replace('\n', '\\u{a}')}...'), not the API's JSON`,
    );
    expect(result.stderr).toMatch(/captive portal/);
    expect(result.stderr).toMatch(/Open http:\/\/127\.0\.0\.1:\d+ in a browser/);
    // Not retried: a portal answers the same on every try.
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(1);
  });

  it('echoing the URL or the request, shows no part of the token or the AppSecret, though its start is cut inside them', async () => {
    const echoUrl = await fake({
      followers: 10,
      fault: onList({ kind: 'raw', body: `<html><body>Blocked: http://api/cgi-bin/user/get?access_token=${FAKE_TOKEN}&x=1</body></html>` }),
    });
    const url = await exportFrom(echoUrl);
    expect(url.code).toBe(5);
    expect(url.stderr).toContain('access_token=[redacted]');
    expect(url.stderr).not.toContain(FAKE_TOKEN.slice(0, 8));

    const echoBody = await fake({
      followers: 10,
      fault: (call) => (call.path === '/cgi-bin/stable_token' ? { kind: 'raw', body: `<html>${call.body}</html>` } : undefined),
    });
    const body = await runCli(['export', '--base-url', echoBody.url], { env: cleanEnv(await tempDir(), APP) });
    expect(body.code).toBe(5);
    // Cut at 80 characters inside the blank, not inside the AppSecret.
    expect(body.stderr).toContain('"secret":"[...');
    expect(body.stderr).not.toContain(FAKE_SECRET.slice(0, 8));
  });
});

describe('an empty 200', () => {
  it('from stable_token is exit 3 at once, pointing at the AppID and AppSecret', async () => {
    const api = await fake({
      followers: 10,
      fault: (call) => (call.path === '/cgi-bin/stable_token' ? { kind: 'raw', body: '', contentType: 'application/json' } : undefined),
    });
    const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(await tempDir(), APP) });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'The API answered stable_token with an empty body (HTTP 200, Content-Type application/json, 0 bytes), not JSON',
    );
    expect(result.stderr).toMatch(/Check the AppID and the AppSecret/);
    expect(callsTo(api, '/cgi-bin/stable_token')).toHaveLength(1);
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(0);
  });

  it('from the follower list is retried, then exit 5, saying it was empty', async () => {
    const api = await fake({ followers: 10, fault: onList({ kind: 'raw', body: '' }) });
    const result = await exportFrom(api, ['--retries', '2']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /to \/cgi-bin\/user\/get is empty \(HTTP 200, Content-Type text\/plain, 0 bytes\), not JSON\. Try again later\. \(Gave up after 2 retries\.\)/,
    );
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(3);
  });
});

describe('a compressed body the client did not ask for', () => {
  const page = JSON.stringify({ total: 1, count: 1, data: { openid: ['oX'] }, next_openid: 'oX' });

  it.each([
    ['gzip without a Content-Encoding', gzipSync(page), {}, /Content-Type application\/json, \d+ bytes: '\\u\{1f\}\\u\{8b\}\\u\{8\}/],
    // Brotli has no magic bytes: only its Content-Encoding tells it.
    [
      'brotli with Content-Encoding: br',
      brotliCompressSync(page),
      { 'content-encoding': 'br' },
      /Content-Type application\/json, Content-Encoding br, \d+ bytes/,
    ],
  ])('(%s) stops at once with exit 5, pointing at what compresses', async (_name, body, headers, described) => {
    const api = await fake({
      followers: 10,
      fault: onList({ kind: 'raw', body, contentType: 'application/json', headers }),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/to \/cgi-bin\/user\/get is compressed \(HTTP 200, /);
    expect(result.stderr).toMatch(described);
    expect(result.stderr).toMatch(/something on the way compresses answers unasked/);
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(1);
  });
});

describe('a body cut off on the way', () => {
  it('is retried, then exit 5, with its Content-Type, length and start', async () => {
    const cut = '{"total":10,"count":10,"data":{"openid":["oA';
    const api = await fake({ followers: 10, fault: onList({ kind: 'raw', body: cut, contentType: 'application/json; encoding=utf-8' }) });
    const result = await exportFrom(api, ['--retries', '1']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `answer to /cgi-bin/user/get is not JSON (HTTP 200, Content-Type application/json; encoding=utf-8, ${cut.length} bytes: '${cut}'): cut off or garbled on the way. Try again later. (Gave up after 1 retry.)`,
    );
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(2);
  });

  it('once, then whole: the export is whole', async () => {
    const api = await fake({
      followers: 10,
      fault: (call) => (call.index === 1 ? { kind: 'raw', body: '{"total":10,"cou' } : undefined),
    });
    const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString().split('\n')).toHaveLength(11);
  });
});

describe('errcodes whose advice depends on the endpoint called', () => {
  /** The errcode on every call to `path`, and nothing else. */
  function refusing(path: string, errcode: number): (call: RecordedCall) => Fault | undefined {
    return (call) => (call.path === path ? { kind: 'errcode', errcode, errmsg: 'api unauthorized' } : undefined);
  }

  it.each([
    ['/cgi-bin/user/get', [], /The follower list needs a verified account \(认证\)/],
    ['/cgi-bin/user/tag/get', ['--tag', '2'], /A tag's follower list needs a verified account/],
    ['/cgi-bin/tags/members/getblacklist', ['--blacklist'], /The blacklist needs a verified account/],
    [
      '/cgi-bin/user/info/batchget',
      ['--with-info', '-f', 'csv'],
      /Asking for follower details \(--with-info\) needs a verified account.* Without --with-info, the export lists the OpenIDs alone\./,
    ],
  ])('48001 from %s is exit 3, naming what needs a verified account', async (path, args, advice) => {
    const api = await fake({ followers: 10, tags: [{ id: 2, name: 'vip', members: generatedFollowers(3) }], fault: refusing(path, 48001) });
    const result = await exportFrom(api, args);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`no permission for this API, ${path} (errcode 48001: api unauthorized rid: `);
    expect(result.stderr).toMatch(advice);
  });

  it('48001 and 50001 from an endpoint outside user management point at the interface permissions', async () => {
    for (const errcode of [48001, 50001]) {
      const api = await fake({ followers: 10, fault: refusing('/cgi-bin/stable_token', errcode) });
      const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(await tempDir(), APP) });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`for this API, /cgi-bin/stable_token (errcode ${errcode}: api unauthorized rid: `);
      expect(result.stderr).toMatch(/Check the interface permissions in the Official Account settings/);
      expect(result.stderr).not.toMatch(/verified account|user management/);
    }
  });

  it.each([
    ['/cgi-bin/user/get', [], 'The follower list'],
    ['/cgi-bin/user/info/batchget', ['--with-info', '-f', 'csv'], 'Asking for follower details (--with-info)'],
  ])('50001 from %s is exit 3: user management not granted, as for a third-party platform', async (path, args, api) => {
    const fakeApi = await fake({ followers: 10, fault: refusing(path, 50001) });
    const result = await exportFrom(fakeApi, args);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `This Official Account is not authorized for this API, ${path} (errcode 50001: api unauthorized rid: 6543210f-0a1b2c3d-50001). ${api} is part of user management, which this account has not been granted: for an account run through a third-party platform, its administrator must grant the platform user management (function scope 2)`,
    );
    expect(fakeApi.calls.filter((call) => call.path === path)).toHaveLength(1);
  });

  it("49003 on the cursor of the run's own previous page: exit 5 at once, the token changed accounts, with the cursor", async () => {
    const api = await fake({
      followers: 30_000,
      fault: (call) => (call.query.get('next_openid') === api.followers.at(9_999) ? { kind: 'errcode', errcode: 49003 } : undefined),
    });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `The API says ${api.followers.at(9_999)}, the cursor its own previous page of the follower list gave, belongs to another account (errcode 49003: fault rid: `,
    );
    expect(result.stderr).toMatch(/the access token changed accounts during the run/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(callsTo(api, '/cgi-bin/user/get')).toHaveLength(2);
  });

  it('49003 from batchget: exit 5 at once, the list and the details asked with tokens of different accounts', async () => {
    const api = await fake({ followers: 250, fault: refusing('/cgi-bin/user/info/batchget', 49003) });
    const result = await exportFrom(api, ['--with-info', '-f', 'csv', '--concurrency', '1']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /The API says an OpenID this call carried belongs to another account \(errcode 49003: api unauthorized rid: .*\)\. The OpenIDs come from the list this run fetched: the list and the details were asked with tokens of different accounts/,
    );
    expect(callsTo(api, '/cgi-bin/user/info/batchget')).toHaveLength(1);
  });

  it('49003 on the first page, which carries no OpenID, says so', async () => {
    const api = await fake({ followers: 10, fault: refusing('/cgi-bin/user/get', 49003) });
    const result = await exportFrom(api);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /refused the first page of the follower list as if it named another account's OpenID \(errcode 49003.*though it named none/,
    );
  });
});

describe("errcodes of a third-party platform's calls, in words with a next step", () => {
  it.each<[number, RegExp, boolean]>([
    [61005, /component_verify_ticket has expired.*authorization event URL \(授权事件接收 URL\) every 10 minutes/, true],
    [61006, /component_verify_ticket is not valid.*authorization event URL/, true],
    [61011, /does not know this third-party platform.*Check the platform's AppID \(--component-appid, WX_COMPONENT_APPID/, true],
    [61007, /has not granted the third-party platform the permission this API needs.*function scope 2/, false],
  ])('%i is exit 3 in words (%s), platform-wide: %s', (errcode, words, platformWide) => {
    const error = errorForErrcode(errcode, 'errmsg', '/cgi-bin/component/api_get_authorizer_list');
    expect(error.exitCode).toBe(ExitCode.Credentials);
    expect(error.message).toMatch(words);
    expect(error.platformWide).toBe(platformWide);
  });

  it('50001 from user management, for an account run through the platform, leads with the scope it did not grant', () => {
    const error = errorForErrcode(50001, 'api unauthorized', '/cgi-bin/tags/get', { throughPlatform: true });
    expect(error.message).toMatch(
      /^The API refused \/cgi-bin\/tags\/get to the third-party platform for this account \(errcode 50001: api unauthorized\)\. The list of tags is part of user management, which this account has most likely not granted the platform: its administrator/,
    );
    expect(errorForErrcode(50001, 'x', '/cgi-bin/stable_token', { throughPlatform: true }).message).toMatch(/interface permissions/);
  });
});
