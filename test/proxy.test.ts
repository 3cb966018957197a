import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { allOpenids, generatedFollowers } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi, type FakeApiOptions } from './fake-api/server.js';
import { BIN, cleanEnv, lines, onPosix, resumeCursor, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { startProxy, startSilentServer, type Misbehaviour, type ProxyOptions, type TestProxy } from './helpers/proxy.js';
import { makeCertificates, type TestCertificates } from './helpers/tls.js';
import { noProxyMatches } from '../src/api/proxy.js';

const fake = useFakes();
let certs: TestCertificates;
const proxies: TestProxy[] = [];

beforeAll(async () => {
  certs = await makeCertificates(['api.weixin.qq.com', 'localhost']);
});
afterAll(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await certs.remove();
});

const CONNECT_API = 'CONNECT api.weixin.qq.com:443 HTTP/1.1';

/** The fake API over TLS, as api.weixin.qq.com. */
async function secureApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  return fake({ ...options, tls: { key: certs.key, cert: certs.cert } });
}

/** A proxy that reaches api.weixin.qq.com:443 at the fake's TLS port. */
async function proxyTo(api: FakeApi, options: ProxyOptions = {}): Promise<TestProxy> {
  const proxy = await startProxy({ routes: { 'api.weixin.qq.com:443': `127.0.0.1:${api.tlsPort}` }, ...options });
  proxies.push(proxy);
  return proxy;
}

/** A port where nothing listens: a proxy that is down. */
async function downProxyUrl(): Promise<string> {
  const proxy = await startProxy();
  await proxy.close();
  return proxy.url;
}

/** The CLI with the test CA trusted, a token and nothing else of the user's: no --base-url unless given. */
async function cli(args: readonly string[], env: Record<string, string> = {}, dir?: string): Promise<CliResult> {
  return runCli(args, {
    env: cleanEnv(dir ?? (await tempDir()), { NODE_EXTRA_CA_CERTS: certs.caPath, WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }),
  });
}

describe('HTTPS_PROXY', () => {
  it('takes an export with no --base-url to https://api.weixin.qq.com through one CONNECT tunnel, output exact', async () => {
    const api = await secureApi({ followers: 23_000 });
    const proxy = await proxyTo(api);
    const result = await cli(['export', '-f', 'csv'], { HTTPS_PROXY: proxy.url });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    expect(proxy.connects).toEqual([CONNECT_API]);
    expect(api.calls.map((call) => call.path)).toEqual(Array(4).fill('/cgi-bin/user/get'));
    // The token stays inside TLS: the proxy saw no request line but the CONNECT.
    expect(proxy.forwarded).toEqual([]);
  });

  it('carries the AppID and AppSecret (stable_token) and the list on the same tunnel', async () => {
    const api = await secureApi({ followers: 12_000 });
    const proxy = await proxyTo(api);
    const result = await cli(['export'], { https_proxy: proxy.url, WX_ACCESS_TOKEN: '', WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(api.calls.map((call) => call.path)).toEqual([
      '/cgi-bin/stable_token',
      '/cgi-bin/user/get',
      '/cgi-bin/user/get',
      '/cgi-bin/user/get',
    ]);
    expect(proxy.connects).toEqual([CONNECT_API]);
  });

  it('serves tags and token too, and an https:// proxy (TLS to the proxy, its certificate checked as well)', async () => {
    const api = await secureApi({ followers: 5, tags: [{ id: 134, name: 'Beijing', members: generatedFollowers(2) }] });
    const proxy = await proxyTo(api, { tls: { key: certs.key, cert: certs.cert } });
    const tags = await cli(['tags'], { HTTPS_PROXY: proxy.url });
    expect([tags.code, tags.stderr, tags.stdout.toString()]).toEqual([0, '', '134\tBeijing\t2\n']);
    const token = await cli(['token', '--proxy', proxy.url], { WX_ACCESS_TOKEN: '', WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET });
    expect([token.code, token.stderr, token.stdout.toString()]).toEqual([0, '', `FAKE_STABLE_TOKEN_1_${'x'.repeat(100)}\n`]);
    expect(proxy.connects).toEqual([CONNECT_API, CONNECT_API]);
    const untrusted = await cli(['tags'], { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: '' });
    expect(untrusted.code).toBe(5);
    expect(untrusted.stderr).toContain(
      `The certificate that api.weixin.qq.com (or the https:// proxy ${new URL(proxy.url).host}) presented is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
    );
    expect(proxy.connects).toHaveLength(2);
  });

  it('opens --concurrency tunnels for --with-info, no more', async () => {
    const api = await secureApi({ followers: 3_000, pageSize: 1_000 });
    const proxy = await proxyTo(api);
    const result = await cli(['export', '--with-info', '--concurrency', '3', '-f', 'ndjson'], { HTTPS_PROXY: proxy.url });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString().split('\n')).toHaveLength(3_001);
    // Three batches in flight from the first page on: three tunnels, and never a fourth.
    expect(proxy.connects).toEqual([CONNECT_API, CONNECT_API, CONNECT_API]);
    expect(api.connections()).toBe(3);
    expect(new Set(proxy.connects)).toEqual(new Set([CONNECT_API]));
  });

  it('keeps retries and timeouts: resets, 503s and a slow answer are retried through new tunnels, output whole', async () => {
    const faults = [{ kind: 'reset' }, { kind: 'status', status: 503 }, { kind: 'slow', delayMs: 2_000 }] as const;
    const api = await secureApi({
      followers: 10_000,
      pageSize: 1_000,
      fault: (call) => (call.index % 3 === 0 ? faults[(call.index / 3) % 3] : undefined),
    });
    const proxy = await proxyTo(api);
    const result = await cli(['export', '--timeout', '300'], { HTTPS_PROXY: proxy.url });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    // A reset or a timeout ends its tunnel; the next call opens another.
    expect(proxy.connects.length).toBeGreaterThan(1);
  });

  it('names the proxy when an answer does not come within --timeout', async () => {
    const api = await secureApi({ followers: 5, fault: () => ({ kind: 'slow', delayMs: 5_000 }) });
    const proxy = await proxyTo(api);
    const result = await cli(['export', '--timeout', '200', '--retries', '0'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `No answer from https://api.weixin.qq.com through the proxy 127.0.0.1:${proxy.port} within 200 ms (/cgi-bin/user/get)`,
    );
  });

  it('names the cursor when the daily quota stops the run', async () => {
    const api = await secureApi({ followers: 23_000, dailyQuota: 2 });
    const proxy = await proxyTo(api);
    const result = await cli(['export'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(4);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(19_999));
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(0, 20_000)));
  });
});

describe('--proxy and the config key proxy', () => {
  it('--proxy with a user and password wins over the config key and the environment; the password is sent, never shown', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api, { user: 'wx', password: 'p@ss:w0rd/9' });
    const dir = await tempDir();
    const down = await downProxyUrl();
    expect((await cli(['config', 'set', 'proxy', down], {}, dir)).code).toBe(0);
    const url = `http://wx:p%40ss%3Aw0rd%2F9@127.0.0.1:${proxy.port}`;
    const result = await cli(['export', '--proxy', url], { HTTPS_PROXY: down }, dir);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(proxy.connects).toEqual([CONNECT_API]);
  });

  it('the config key wins over HTTPS_PROXY, and is masked by config get and list', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api, { user: 'wx', password: 'CONFIG_proxy_pass' });
    const dir = await tempDir();
    const url = `http://wx:CONFIG_proxy_pass@127.0.0.1:${proxy.port}`;
    expect((await runCli(['config', 'set', 'proxy', '-'], { env: cleanEnv(dir), stdin: `${url}\n` })).code).toBe(0);
    const result = await cli(['export'], { HTTPS_PROXY: await downProxyUrl() }, dir);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(proxy.connects).toEqual([CONNECT_API]);
    const get = await cli(['config', 'get', 'proxy'], {}, dir);
    expect(get.stdout.toString()).toBe(`http://wx:***@127.0.0.1:${proxy.port}\n`);
    const list = await cli(['config', 'list'], {}, dir);
    expect(list.stdout.toString()).toBe(`proxy=http://wx:***@127.0.0.1:${proxy.port}\n`);
    expect((await cli(['config', 'get', 'proxy', '--reveal'], {}, dir)).stdout.toString()).toBe(`${url}\n`);
  });

  it('a proxy URL with surrounding whitespace (hand-edited into the config file, or given to --proxy) is trimmed', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api);
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ proxy: ` ${proxy.url}\n` }), { mode: 0o600 });
    const fromConfig = await cli(['export'], {}, dir);
    expect([fromConfig.code, fromConfig.stderr]).toEqual([0, '']);
    const fromFlag = await cli(['export', '--proxy', ` ${proxy.url}\n`]);
    expect([fromFlag.code, fromFlag.stderr]).toEqual([0, '']);
    expect(proxy.connects).toEqual([CONNECT_API, CONNECT_API]);
  });

  it('config set proxy takes http:// and https:// proxies only', async () => {
    const dir = await tempDir();
    for (const [value, message] of [
      ['socks5://127.0.0.1:1080', /only http:\/\/ and https:\/\/ proxies/],
      ['http://u:SECRET_in_bad_url@127.0.0.1:3128/path', /no path or query \(proxy 127\.0\.0\.1:3128\)/],
      ['http://', /not a URL/],
    ] as const) {
      const result = await cli(['config', 'set', 'proxy', value], {}, dir);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain('SECRET_in_bad_url');
    }
    expect((await cli(['config', 'list'], {}, dir)).stdout.toString()).toBe('');
    for (const value of ['http://proxy.example:3128', 'https://proxy.example', 'proxy.example:3128']) {
      expect((await cli(['config', 'set', 'proxy', value], {}, dir)).code).toBe(0);
    }
  });

  it('--no-proxy and --proxy "" turn every proxy off for one run', async () => {
    const api = await secureApi({ followers: 5 });
    const down = await downProxyUrl();
    for (const off of [['--no-proxy'], ['--proxy', '']]) {
      const result = await cli(['export', '--base-url', `https://localhost:${api.tlsPort}`, ...off], { HTTPS_PROXY: down });
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    }
  });
});

describe('NO_PROXY', () => {
  it('sends the hosts it lists straight to the API, and the others through the proxy', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api);
    const local = `https://localhost:${api.tlsPort}`;
    for (const noProxy of ['localhost', '.example.com, LOCALHOST', `localhost:${api.tlsPort}`, '*']) {
      const result = await cli(['export', '--base-url', local], { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
      expect([result.code, result.stderr]).toEqual([0, '']);
    }
    expect(proxy.connects).toEqual([]);
    const through = await cli(['export', '--base-url', local], { HTTPS_PROXY: proxy.url, no_proxy: 'localhost:1,example.com' });
    expect([through.code, through.stderr]).toEqual([0, '']);
    expect(proxy.connects).toEqual([`CONNECT localhost:${api.tlsPort} HTTP/1.1`]);
  });

  it('applies to --proxy too, as in curl, and says so', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api);
    const result = await cli(['export', '--base-url', `https://localhost:${api.tlsPort}`, '--proxy', proxy.url], { NO_PROXY: 'localhost' });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`wx-followers: not using the proxy from --proxy: NO_PROXY lists localhost:${api.tlsPort}.\n`);
    expect(proxy.connects).toEqual([]);
  });

  it('matches as curl does: names and their subdomains, *, IPs and CIDR ranges, ports', () => {
    const api = new URL('https://api.weixin.qq.com');
    const cases: [string, URL, boolean][] = [
      ['weixin.qq.com', api, true],
      ['.qq.com', api, true],
      ['*.qq.com', api, true],
      ['api.weixin.qq.com.', api, true],
      ['eixin.qq.com', api, false],
      ['api.weixin.qq.co', api, false],
      ['*', api, true],
      ['foo, *', api, true],
      ['api.weixin.qq.com:443', api, true],
      ['api.weixin.qq.com:8443', api, false],
      ['10.0.0.1', new URL('https://10.0.0.1:8443'), true],
      ['10.0.0.0/8', new URL('https://10.2.3.4'), true],
      ['10.0.0.0/8', new URL('https://11.2.3.4'), false],
      ['10.0.0.0/99', new URL('https://10.2.3.4'), false],
      ['10.0.0.1', new URL('https://10.0.0.10'), false],
      ['::1', new URL('https://[::1]:8443'), true],
      ['[::1]:8443', new URL('https://[::1]:8443'), true],
      ['[::1]:443', new URL('https://[::1]:8443'), false],
      ['', api, false],
    ];
    for (const [noProxy, origin, expected] of cases)
      expect([noProxy, origin.host, noProxyMatches(noProxy, origin)]).toEqual([noProxy, origin.host, expected]);
  });
});

describe('a refusing or missing proxy', () => {
  it('a wrong proxy password exits 3 naming the proxy by host and port, with no password on stderr', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api, { user: 'wx', password: 'right-password' });
    const password = 'WRONG_proxy_pass_9x';
    const result = await cli(['export'], { HTTPS_PROXY: `http://wx:${password}@127.0.0.1:${proxy.port}` });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`The proxy 127.0.0.1:${proxy.port} (from HTTPS_PROXY) refused its credentials (HTTP 407`);
    expect(result.stderr).toMatch(/Check the user and password in the proxy URL/);
    for (const secret of [password, 'WRONG', Buffer.from(`wx:${password}`).toString('base64')]) expect(result.stderr).not.toContain(secret);
    // Not retried: the same password meets the same refusal.
    expect(proxy.connects).toEqual([CONNECT_API]);
  });

  it('a proxy that is down exits 5 after the retries, naming it and what to check', async () => {
    const down = await downProxyUrl();
    const result = await cli(['export', '--retries', '1'], { HTTPS_PROXY: down.replace('http://', 'http://wx:DOWN_proxy_pass@') });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`Could not reach the proxy ${new URL(down).host} (from HTTPS_PROXY): ECONNREFUSED`);
    expect(result.stderr).toMatch(
      /Check that the proxy is running and its host and port, or run with --no-proxy\. \(Gave up after 1 retry\.\)/,
    );
    expect(result.stderr).not.toContain('DOWN_proxy_pass');
  });

  it('a tunnel the proxy refuses exits 5 at once, saying what to check', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api, { refuseStatus: 403 });
    const result = await cli(['export'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `The proxy 127.0.0.1:${proxy.port} (from HTTPS_PROXY) did not open a tunnel to api.weixin.qq.com:443 (HTTP 403). Check that it allows CONNECT to api.weixin.qq.com:443.`,
    );
    expect(proxy.connects).toEqual([CONNECT_API]);
  });

  it('a 5xx to the CONNECT (the proxy could not reach the API) is retried, then exit 5', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api, { refuseStatus: 502 });
    const result = await cli(['export', '--retries', '2'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `did not open a tunnel to api.weixin.qq.com:443 (HTTP 502). It could not reach the API: check its network, or try again later. (Gave up after 2 retries.)`,
    );
    expect(proxy.connects).toHaveLength(3);
  });
});

describe('a proxy that closes, resets, stalls or garbles the tunnel', () => {
  /** export (to a file), tags and token: each is one request, and each must stop as the others do. */
  async function runEach(proxy: TestProxy, args: readonly string[]): Promise<{ command: string; result: CliResult; files: string[] }[]> {
    const runs = [];
    for (const command of [['export', '-o', 'followers.txt'], ['tags'], ['token']]) {
      const dir = await tempDir();
      const credentials: Record<string, string> =
        command[0] === 'token' ? { WX_ACCESS_TOKEN: '', WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET } : {};
      const result = await runCli([...command, '--proxy', proxy.url, ...args], {
        cwd: dir,
        env: cleanEnv(dir, { NODE_EXTRA_CA_CERTS: certs.caPath, WX_ACCESS_TOKEN: FAKE_TOKEN, ...credentials }),
      });
      runs.push({ command: command.join(' '), result, files: (await readdir(dir)).filter((name) => name.startsWith('followers')) });
    }
    return runs;
  }

  const cases: [Misbehaviour, string, number][] = [
    ['close', 'closed the tunnel before answering the CONNECT to api.weixin.qq.com:443', 3],
    ['reset', 'reset the connection (ECONNRESET) before answering the CONNECT to api.weixin.qq.com:443', 3],
    ['stall', 'did not answer the CONNECT to api.weixin.qq.com:443 within 300 ms', 3],
    // Not HTTP at all: another kind of server on that port, which the next try meets again.
    ['garble', 'answered the CONNECT to api.weixin.qq.com:443 with something that is not HTTP', 1],
  ];
  for (const [misbehaviour, said, attempts] of cases) {
    it(`${misbehaviour}: export, tags and token make at most retries + 1 CONNECTs each, exit 5 naming the proxy and what it did`, async () => {
      const proxy = await startProxy({ misbehave: misbehaviour });
      proxies.push(proxy);
      for (const { command, result, files } of await runEach(proxy, ['--retries', '2', '--timeout', '300'])) {
        expect([command, result.code]).toEqual([command, 5]);
        expect(result.stderr).toContain(`wx-followers: The proxy 127.0.0.1:${proxy.port} (from --proxy) ${said}`);
        expect(result.stderr).not.toContain('--base-url');
        // A run that wrote nothing leaves no file, not even an empty FILE.partial.
        expect([command, files]).toEqual([command, []]);
      }
      expect(proxy.connects).toEqual(Array(3 * attempts).fill(CONNECT_API));
    });
  }

  it('a TLS handshake with the API that never completes inside the tunnel takes --timeout an attempt, a new tunnel each', async () => {
    const silent = await startSilentServer();
    const proxy = await startProxy({ routes: { 'api.weixin.qq.com:443': `127.0.0.1:${silent.port}` } });
    proxies.push(proxy);
    try {
      const result = await cli(['tags', '--timeout', '300', '--retries', '1'], { HTTPS_PROXY: proxy.url });
      expect(result.code).toBe(5);
      expect(result.stderr).toBe(
        `wx-followers: The TLS handshake with api.weixin.qq.com through the proxy 127.0.0.1:${proxy.port} (from HTTPS_PROXY) did not complete within 300 ms. ` +
          'Check the proxy (its log, its network), or try again later. Or raise --timeout. (Gave up after 1 retry.)\n',
      );
      expect(proxy.connects).toEqual([CONNECT_API, CONNECT_API]);
    } finally {
      await silent.close();
    }
  });

  (onPosix ? it : it.skip)(
    'SIGINT while the proxy sits on the CONNECT stops the run at once, leaving no file',
    async () => {
      const proxy = await startProxy({ misbehave: 'stall' });
      proxies.push(proxy);
      const dir = await tempDir();
      // The default --timeout (30 s) and retries (5): only the signal can end this run within the test's time.
      const child = spawn(process.execPath, [BIN, 'export', '-o', join(dir, 'followers.txt'), '--proxy', proxy.url], {
        env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      while (proxy.connects.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/Interrupted \(SIGINT\)/);
      expect(proxy.connects).toEqual([CONNECT_API]);
      expect((await readdir(dir)).filter((name) => name.startsWith('followers'))).toEqual([]);
    },
    15_000,
  );
});

describe('an https:// proxy', () => {
  it('given by IP address: no DEP0123 warning (no server name is sent for an IP), its certificate checked for the IP', async () => {
    const api = await secureApi({ followers: 5, tags: [{ id: 2, name: 'A', members: generatedFollowers(1) }] });
    const ipCerts = await makeCertificates(['127.0.0.1']);
    try {
      const dir = await tempDir();
      const bundle = join(dir, 'cas.pem');
      await writeFile(bundle, `${await readFile(certs.caPath, 'utf8')}${await readFile(ipCerts.caPath, 'utf8')}`);
      const proxy = await proxyTo(api, { tls: { key: ipCerts.key, cert: ipCerts.cert } });
      const url = proxy.url.replace('localhost', '127.0.0.1');
      const result = await cli(['tags', '--proxy', url], { NODE_EXTRA_CA_CERTS: bundle }, dir);
      expect([result.code, result.stderr, result.stdout.toString()]).toEqual([0, '', '2\tA\t1\n']);
      expect(proxy.connects).toEqual([CONNECT_API]);
    } finally {
      await ipCerts.remove();
    }
  });

  it('pointed at a plain-http proxy: says to use http:// for it, exit 5 at once, no OpenSSL text', async () => {
    const api = await secureApi({ followers: 5 });
    const plain = await proxyTo(api);
    const result = await cli(['export', '--proxy', `https://127.0.0.1:${plain.port}`]);
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      `wx-followers: The proxy at 127.0.0.1:${plain.port} (from --proxy) does not speak TLS: use http:// for it.\n`,
    );
    expect(plain.connects).toEqual([]);
  });
});

describe('certificates', () => {
  it('an untrusted certificate is refused, with NODE_EXTRA_CA_CERTS named, exit 5, not retried', async () => {
    const api = await secureApi({ followers: 5 });
    const proxy = await proxyTo(api);
    const result = await cli(['export'], { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: '' });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /^wx-followers: The certificate that api\.weixin\.qq\.com presented is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate[^)]*\)\. .*NODE_EXTRA_CA_CERTS=\/path\/to\/ca\.pem/,
    );
    expect(result.stdout.toString()).toBe('');
    expect(api.calls).toEqual([]);
    expect(proxy.connects).toEqual([CONNECT_API]);
  });

  it('a certificate for another host name is refused', async () => {
    const api = await secureApi({ followers: 5 });
    const result = await cli(['export', '--base-url', `https://127.0.0.1:${api.tlsPort}`]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /The certificate that 127\.0\.0\.1:\d+ presented is not for that host name \(ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });
});

describe('an http origin (loopback only)', () => {
  it('goes through HTTP_PROXY as an absolute URI, and not through HTTPS_PROXY', async () => {
    const api = await fake({ followers: 5 });
    const proxy = await startProxy();
    proxies.push(proxy);
    const result = await cli(['export', '--base-url', api.url], { HTTP_PROXY: proxy.url, HTTPS_PROXY: await downProxyUrl() });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(proxy.connects).toEqual([]);
    expect(proxy.forwarded.map((line) => line.replace(/\?.*? /, ' '))).toEqual([
      `GET ${api.url}/cgi-bin/user/get HTTP/1.1`,
      `GET ${api.url}/cgi-bin/user/get HTTP/1.1`,
    ]);
  });

  it("tells the proxy's own 502 (no Via) from the API's 502 forwarded through it", async () => {
    const proxy = await startProxy();
    proxies.push(proxy);
    const down = await fake({ followers: 5 });
    await down.close();
    const ownAnswer = await cli(['export', '--base-url', down.url, '--retries', '1'], { HTTP_PROXY: proxy.url });
    expect(ownAnswer.code).toBe(5);
    expect(ownAnswer.stderr).toBe(
      `wx-followers: The proxy 127.0.0.1:${proxy.port} (from HTTP_PROXY) answered /cgi-bin/user/get for ${new URL(down.url).host} itself, not the API (HTTP 502). ` +
        'It could not reach the API: check its network, or try again later. (Gave up after 1 retry.)\n',
    );
    const api = await fake({ followers: 5, fault: () => ({ kind: 'status', status: 502 }) });
    const apiAnswer = await cli(['export', '--base-url', api.url, '--retries', '1'], { HTTP_PROXY: proxy.url });
    expect(apiAnswer.code).toBe(5);
    expect(apiAnswer.stderr).toBe(
      'wx-followers: The API answered HTTP 502 to /cgi-bin/user/get. Try again later. (Gave up after 1 retry.)\n',
    );
  });

  it('is refused through a plain-http proxy off this machine, which would read the token', async () => {
    const api = await fake({ followers: 5 });
    const result = await cli(['export', '--base-url', api.url, '--proxy', 'http://proxy.example:3128']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/The proxy from --proxy \(proxy\.example:3128\) would see the access token in clear text .*--no-proxy/);
    expect(api.calls).toEqual([]);
  });
});

describe('40164 (IP not on the whitelist)', () => {
  it('names the IP the API saw and the proxy, with the errmsg escaped', async () => {
    const errmsg = 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist\u001b[2J\u202e';
    const api = await secureApi({ followers: 5, fault: () => ({ kind: 'errcode', errcode: 40164, errmsg }) });
    const proxy = await proxyTo(api);
    const result = await cli(['export'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("The API saw this call come from 203.0.113.7, an address that is not on the account's IP whitelist");
    expect(result.stderr).toContain('not in whitelist\\u{1b}[2J\\u{202e} rid: ');
    expect(result.stderr).toMatch(/go through a forward proxy on a whitelisted server: --proxy http:\/\/host:port/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what must not get through.
    expect(result.stderr).not.toMatch(/[\u001b\u202e]/);
  });
});
