import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { serveInstructions } from './fake-api/demo-instructions.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN } from './fake-api/server.js';
import { generatedFollowers } from './fake-api/followers.js';
import { demoPlatform } from './fake-api/platform.js';
import { BIN, cleanEnv, lines, onPosix, runCli, runProcess, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

function broken(path: string, why: string): string {
  return (
    `wx-followers: The config file ${path} is broken: ${why}. Fix it by hand (a JSON object such as {"appid": "wx..."}), ` +
    `or move it away to start with an empty one (mv '${path}' '${path}.bad'); then set the values again with \`wx-followers config set\`.\n`
  );
}

async function configFile(content: string): Promise<{ dir: string; path: string }> {
  const dir = await tempDir();
  const path = join(dir, 'config.json');
  await writeFile(path, content, { mode: 0o600 });
  return { dir, path };
}

describe('a broken config file', () => {
  it('`config path` still prints its path; `config set` and `config unset` refuse it and leave it as it was', async () => {
    const content = '{"secret":HANDEDITEDSECRET0001, "appid": "wxfa4e0123456789ab"}';
    const { dir, path } = await configFile(content);
    const found = await runCli(['config', 'path'], { env: cleanEnv(dir) });
    expect([found.code, found.stdout.toString(), found.stderr]).toEqual([0, `${path}\n`, '']);
    for (const args of [
      ['config', 'set', 'appid', FAKE_APPID],
      ['config', 'unset', 'appid'],
      ['config', 'unset', 'token-cache'],
    ]) {
      const result = await runCli(args, { env: cleanEnv(dir) });
      expect([result.code, result.stderr], args.join(' ')).toEqual([2, broken(path, 'it is not valid JSON')]);
    }
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('JSON that is not an object is refused the same way, and never rewritten as one', async () => {
    for (const content of ['[1,2]', '"wx"', 'null', '5']) {
      const { dir, path } = await configFile(content);
      for (const args of [['config', 'set', 'appid', FAKE_APPID], ['config', 'list'], ['token']]) {
        const result = await runCli(args, { env: cleanEnv(dir, { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET }) });
        expect([result.code, result.stderr], `${content}: ${args.join(' ')}`).toEqual([2, broken(path, 'it is not a JSON object')]);
      }
      expect(await readFile(path, 'utf8')).toBe(content);
    }
  });

  it('a key whose value is not a string is named, its value never shown', async () => {
    const api = await fake({ followers: 2 });
    const { dir, path } = await configFile(`{"appid": 5, "secret": 987654321987}`);
    const result = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `wx-followers: The config file ${path} has a value for the key appid that is not a string (a number). Quote it in the file, or set it again with \`wx-followers config set appid ...\`.\n`,
    );
    const secret = await runCli(['config', 'get', 'secret'], { env: cleanEnv(dir) });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/key secret that is not a string \(a number\)/);
    expect(secret.stderr + secret.stdout.toString()).not.toContain('987654321987');
    // The proxy key is read without conf: the same check.
    await writeFile(path, '{"proxy": {"url": "http://u:PROXYPASS@127.0.0.1:3128"}}');
    const proxy = await runCli(['export', '--base-url', api.url], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    expect([proxy.code, proxy.stderr]).toEqual([
      2,
      `wx-followers: The config file ${path} has a value for the key proxy that is not a string (an object). Quote it in the file, or set it again with \`wx-followers config set proxy ...\`.\n`,
    ]);
    expect(api.calls).toEqual([]);
  });
});

describe('a config file with a UTF-8 BOM (Windows Notepad)', () => {
  it('is read as without it', async () => {
    const api = await fake({ followers: 3 });
    const { dir } = await configFile(`\ufeff${JSON.stringify({ 'access-token': FAKE_TOKEN, 'base-url': api.url })}`);
    const result = await runCli(['export'], { env: cleanEnv(dir) });
    expect([result.code, result.stderr, result.stdout.toString()]).toEqual([0, '', lines(allOpenids(api.followers))]);
    const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
    expect(list.stdout.toString()).toBe(`access-token=********\nbase-url=${api.url}\n`);
  });
});

describe('token-cache in config list and config get', () => {
  it('agree: get prints the count list prints, never a token, even with --reveal', async () => {
    const cached = { accessToken: 'CACHED_TOKEN_0123456789abcdef', expiresAt: Date.now() + 3_600_000, secretSha256: 'x' };
    const { dir } = await configFile(
      JSON.stringify({ appid: FAKE_APPID, 'token-cache': { [FAKE_APPID]: cached, wx0ther00000000000: cached } }),
    );
    const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
    expect(list.stdout.toString()).toBe(`appid=${FAKE_APPID}\ntoken-cache=(stable tokens of 2 AppIDs)\n`);
    for (const args of [
      ['config', 'get', 'token-cache'],
      ['config', 'get', 'token-cache', '--reveal'],
    ]) {
      const get = await runCli(args, { env: cleanEnv(dir) });
      expect([get.code, get.stdout.toString(), get.stderr], args.join(' ')).toEqual([0, '(stable tokens of 2 AppIDs)\n', '']);
    }
    expect((await runCli(['config', 'unset', 'token-cache'], { env: cleanEnv(dir) })).code).toBe(0);
    const none = await runCli(['config', 'get', 'token-cache'], { env: cleanEnv(dir) });
    expect([none.code, none.stderr]).toEqual([1, 'wx-followers: config key token-cache is not set.\n']);
  });
});

describe('values checked and shown escaped', () => {
  it('config set refuses an AppID of the wrong shape and any control character, saying what an AppID looks like', async () => {
    const dir = await tempDir();
    for (const appid of ['X x', 'wx\u001b[31m', 'wx1', 'FAKE_SECRET_0f1e2d3c4b5a6978']) {
      const result = await runCli(['config', 'set', 'appid', appid], { env: cleanEnv(dir) });
      expect(result.code, JSON.stringify(appid)).toBe(2);
      expect(result.stderr).toMatch(/an AppID is 'wx' and 16 letters or digits, such as wx1234567890abcdef|control character/);
      expect(result.stderr).not.toContain('\u001b');
    }
    const secret = await runCli(['config', 'set', 'secret', 'abc\u001b]0;title\u0007def'], { env: cleanEnv(dir) });
    expect([secret.code, secret.stderr]).toEqual([
      2,
      'wx-followers: config set secret: the value holds a control character (a line break, tab or terminal escape); none of the keys takes one.\n',
    ]);
    // Letters and digits, a length near the platform's 16 hex digits: let through.
    for (const appid of [FAKE_APPID, 'wx0ther0000000000', 'wxABCDEF0123456789']) {
      expect((await runCli(['config', 'set', 'appid', appid], { env: cleanEnv(dir) })).code, appid).toBe(0);
    }
  });

  it('a bad AppID from the flag or the environment is exit 2 before any call, also with a token given', async () => {
    const api = await fake({ followers: 2 });
    const cases: [string[], Record<string, string>][] = [
      [['--appid', 'wx bad'], { WX_SECRET: FAKE_SECRET }],
      [[], { WX_APPID: 'wx\u001b[2Jxxxxxxxxxxxxxx', WX_SECRET: FAKE_SECRET }],
      [[], { WX_APPID: 'not-an-appid', WX_ACCESS_TOKEN: FAKE_TOKEN }],
    ];
    for (const [args, env] of cases) {
      const result = await runCli(['export', '--base-url', api.url, ...args], { env: cleanEnv(await tempDir(), env) });
      expect(result.code, JSON.stringify([args, env])).toBe(2);
      expect(result.stderr).toMatch(
        /^wx-followers: The AppID from (--appid|WX_APPID) does not look like one: an AppID is 'wx' and 16 letters/,
      );
      expect(result.stderr).not.toContain('\u001b');
    }
    expect(api.calls).toEqual([]);
  });

  it('config get and list print a hand-edited value escaped; --reveal prints it as stored', async () => {
    const { dir } = await configFile(JSON.stringify({ 'base-url': 'https://x\u001b[31m.example', secret: 'SECRET_0123\u001b[2J' }));
    const get = await runCli(['config', 'get', 'base-url'], { env: cleanEnv(dir) });
    expect(get.stdout.toString()).toBe('https://x\\u{1b}[31m.example\n');
    const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
    expect(list.stdout.toString()).toBe('secret=********\nbase-url=https://x\\u{1b}[31m.example\n');
    const reveal = await runCli(['config', 'get', 'base-url', '--reveal'], { env: cleanEnv(dir) });
    expect(reveal.stdout.toString()).toBe('https://x\u001b[31m.example\n');
  });
});

describe('numeric options', () => {
  it('--retries is at most 100; a number too large for any option is said to be too large', async () => {
    const api = await fake({ followers: 2 });
    const env = cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const hundred = await runCli(['export', '--base-url', api.url, '--retries', '100'], { env });
    expect([hundred.code, hundred.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers))]);
    const calls = api.calls.length;
    const huge = '99999999999999999999';
    for (const [flag, value, max] of [
      ['--retries', '101', '100'],
      ['--retries', '1000', '100'],
      ['--limit', huge, '9007199254740991'],
      ['--concurrency', '33', "32 (more calls at once only meet the API's per-minute limit sooner)"],
      ['--concurrency', huge, "32 (more calls at once only meet the API's per-minute limit sooner)"],
      ['--timeout', huge, '2147483647'],
      ['--tag', huge, '9007199254740991'],
      ['--retries', huge, '100'],
    ] as const) {
      const result = await runCli(['export', '--base-url', api.url, '--format', 'ndjson', '--with-info', flag, value], { env });
      expect([result.code, result.stderr], `${flag} ${value}`).toEqual([
        2,
        `wx-followers: ${flag} is too large: it is at most ${max}; got ${value}.\n`,
      ]);
    }
    expect(api.calls).toHaveLength(calls);
  });
});

describe('a TLS error', () => {
  it("is one line, OpenSSL's text kept and escaped", async () => {
    // https:// to the fake's plain-HTTP port: OpenSSL's "wrong version number", which ends in a line break.
    const api = await fake({ followers: 1 });
    const result = await runCli(['export', '--base-url', api.url.replace('http://', 'https://'), '--retries', '0'], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }),
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /^wx-followers: Could not talk to https:\/\/127\.0\.0\.1:\d+ \(\/cgi-bin\/user\/get\): .*wrong version number.*\. Check the network/,
    );
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr.endsWith('\n')).toBe(true);
  });
});

describe('npm run demo -- --serve', () => {
  it("prints the fake account's AppID and AppSecret, and the commands it gives work against the fake", async () => {
    const api = await fake({ followers: 2 });
    const text = serveInstructions(api.url);
    expect(text).toContain(FAKE_APPID);
    expect(text).toContain(FAKE_SECRET);
    const exported = /export (WX_API_BASE_URL=\S+ WX_APPID=\S+ WX_SECRET=\S+)\n/.exec(text)?.[1];
    const env = Object.fromEntries((exported ?? '').split(' ').map((pair) => pair.split('=', 2) as [string, string]));
    const token = await runCli(['token'], { env: cleanEnv(await tempDir(), env) });
    expect([token.code, token.stderr]).toEqual([0, '']);
    expect(token.stdout.toString()).toMatch(/^FAKE_STABLE_TOKEN_1/);
  });

  it('prints a platform that `accounts` lists with the command it gives, the account beside it untouched', async () => {
    const api = await fake({ followers: 2, platform: demoPlatform(generatedFollowers) });
    const exported = /export (WX_API_BASE_URL=\S+ WX_COMPONENT_APPID=\S+) WX_COMPONENT_TOKEN_COMMAND="([^"]+)"\n/.exec(
      serveInstructions(api.url),
    );
    const env = Object.fromEntries((exported?.[1] ?? '').split(' ').map((pair) => pair.split('=', 2) as [string, string]));
    const listed = await runCli(['accounts', '--with-info'], {
      env: cleanEnv(await tempDir(), { ...env, WX_COMPONENT_TOKEN_COMMAND: exported?.[2] ?? '' }),
    });
    expect([listed.code, listed.stderr]).toEqual([
      0,
      'wx-followers: 4 accounts authorized the platform; 3 granted user management, 1 did not (their followers cannot be exported).\n',
    ]);
    expect(
      listed.stdout
        .toString()
        .split('\n')
        .map((line) => line.split('\t')[2]),
    ).toEqual(['yes', 'yes', 'no', 'yes', undefined]);
    // The single account of the demo still answers its own token.
    const exportedList = await runCli(['export', '--base-url', api.url], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }),
    });
    expect([exportedList.code, exportedList.stdout.toString().split('\n').length]).toEqual([0, 3]);
  });
});

/** test/fake-api/demo.ts as one script that Node runs, as `npm run demo` runs its compiled self. */
async function bundledDemo(): Promise<{ script: string; dir: string }> {
  const dir = await tempDir();
  const script = join(dir, 'demo.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./fake-api/demo.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    logLevel: 'silent',
  });
  // esbuild's service is a child of this worker: left running, it would count as a process the tests left.
  await stop();
  return { script, dir };
}

/** The demo's fake, once it says where it listens; `ended` settles when the last holder of its stderr (the demo) has exited. */
async function servingDemo(child: ChildProcessByStdio<null, null, Readable>): Promise<{ url: string; ended: Promise<void> }> {
  const ended = new Promise<void>((resolve) => child.stderr.on('close', () => resolve()));
  let text = '';
  const url = await new Promise<string>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const found = /at (http:\/\/127\.0\.0\.1:\d+)\./.exec(text)?.[1];
      if (found !== undefined) resolve(found);
    });
  });
  return { url, ended };
}

async function answers(url: string): Promise<boolean> {
  return fetch(`${url}/cgi-bin/get_api_domain_ip`).then(
    () => true,
    () => false,
  );
}

describe('npm run demo -- --serve, stopped', () => {
  it.runIf(onPosix).each([['SIGTERM'], ['SIGHUP'], ['SIGINT']] as const)(
    'by %s: the fake stops and the process exits 0',
    async (signal) => {
      const { script, dir } = await bundledDemo();
      const child = spawn(process.execPath, [script, '--serve'], { env: cleanEnv(dir), stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const { url } = await servingDemo(child);
      expect(await answers(url)).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(await answers(url)).toBe(false);
    },
  );

  // What `npm run demo -- --serve` is: npm forwards SIGTERM to `sh -c '... && node demo.js'`, which dies without passing it on.
  it.runIf(onPosix)('by SIGTERM to the shell npm runs it in: the fake, left behind, stops too', async () => {
    const { script, dir } = await bundledDemo();
    const shell = spawn('sh', ['-c', `true && "${process.execPath}" "${script}" --serve`], {
      env: cleanEnv(dir),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const { url, ended } = await servingDemo(shell);
    expect(await answers(url)).toBe(true);
    shell.kill('SIGTERM');
    await ended;
    expect(await answers(url)).toBe(false);
  });
});

describe('bin/wx-followers.cjs before `npm run build`', () => {
  it('says in one line to build first, exit 1, no stack trace', async () => {
    const clone = await tempDir();
    await mkdir(join(clone, 'bin'));
    await copyFile(BIN, join(clone, 'bin', 'wx-followers.cjs'));
    await copyFile(join(BIN, '..', '..', 'package.json'), join(clone, 'package.json'));
    const result = await runProcess(process.execPath, [join(clone, 'bin', 'wx-followers.cjs'), '--help'], { env: cleanEnv(clone) });
    expect([result.code, result.stdout.toString(), result.stderr]).toEqual([
      1,
      '',
      'wx-followers: not built yet (dist/ is missing): run `npm run build` first (after `npm install`).\n',
    ]);
  });
});
