import { spawn } from 'node:child_process';
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, openConfigStore } from '../src/out/config-store.js';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN } from './fake-api/server.js';
import { BIN, type CliResult, cleanEnv, expectOwnerOnly, lines, onLinux, onPosix, runCli, tempDir, unprivileged } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const VALUES: Record<(typeof CONFIG_KEYS)[number], string> = {
  'access-token': 'STORED_TOKEN_0123456789',
  appid: 'wx00000000000000aa',
  secret: 'STORED_SECRET_0123456789',
  'base-url': 'https://sh.api.weixin.qq.com',
  proxy: 'http://127.0.0.1:3128',
  'token-command': 'vault read -field=token secret/wx',
  'token-url': 'https://tokens.example/wx/{appid}',
  'component-appid': 'wxc0000000000000cc',
  'component-token-command': 'vault read -field=token secret/platform',
  'component-token-url': 'https://tokens.example/component/{component_appid}',
  'authorizer-token-command': 'platform-tokens authorizer {appid}',
  'authorizer-token-url': 'https://platform.example/authorizer/{appid}/token',
  db: '/var/lib/wechat/followers.db',
};

describe('config writes', () => {
  it('are serialized: changes made at once through several stores of one file all stay', async () => {
    const env = cleanEnv(await tempDir());
    // Each opened before any change: a change that wrote what its store read would lose the others'.
    const stores = await Promise.all(Array.from({ length: CONFIG_KEYS.length }, () => openConfigStore(env)));
    await Promise.all([
      ...CONFIG_KEYS.map((key, index) => stores[index]?.set(key, VALUES[key])),
      ...stores.map((store, index) =>
        store.cacheToken(
          { appid: `wx0000000000000${String(index).padStart(3, '0')}`, secret: 's' },
          { accessToken: `T${index}`, expiresAt: 1 },
        ),
      ),
    ]);
    const after = await openConfigStore(env);
    expect(Object.fromEntries(CONFIG_KEYS.map((key) => [key, after.get(key)]))).toEqual(VALUES);
    expect(after.cachedTokenCount()).toBe(CONFIG_KEYS.length);
    // Nothing left beside it: no temp file, no lock.
    expect(await readdir(env['WX_FOLLOWERS_CONFIG_DIR'] as string)).toEqual(['config.json']);
    await expectOwnerOnly(after.path);
  });

  it('from parallel processes lose nothing: four `config set` and a `token` that caches its token, five times over', async () => {
    const api = await fake({ followers: 1 });
    // Not access-token: stored, it would be the token `token` prints, and nothing would be cached.
    // Not token-command or token-url, nor the platform's keys (component-, authorizer-), nor db: four writers beside the token's, as the test has always had.
    const keys = CONFIG_KEYS.filter(
      (key) =>
        key !== 'access-token' &&
        key !== 'token-command' &&
        key !== 'token-url' &&
        key !== 'db' &&
        !key.startsWith('component-') &&
        !key.startsWith('authorizer-'),
    );
    for (let round = 0; round < 5; round += 1) {
      const dir = await tempDir();
      const results = await Promise.all([
        ...keys.map((key) => runCli(['config', 'set', key, VALUES[key]], { env: cleanEnv(dir) })),
        runCli(['token', '--base-url', api.url, '--no-proxy'], { env: cleanEnv(dir, { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET }) }),
      ]);
      expect(results.map((result) => [result.code, result.stderr])).toEqual(results.map(() => [0, '']));
      const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
      expect(list.stdout.toString(), `round ${round}`).toMatch(
        /^appid=wx00000000000000aa\nsecret=\*{8}\nbase-url=https:\/\/sh\.api\.weixin\.qq\.com\nproxy=http:\/\/127\.0\.0\.1:3128\ntoken-cache=\(stable tokens of 1 AppID\)\n$/,
      );
    }
  });

  it.runIf(onPosix)('wait for the lock another process holds, then change the file as that one left it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ appid: VALUES.appid }), { mode: 0o600 });
    // Held by this test process, alive: `config set` must wait for it.
    const lock = `${path}.lock`;
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now(), nonce: 'held-by-the-test' }));
    const child = spawn(process.execPath, [BIN, 'config', 'set', 'secret', VALUES.secret], { env: cleanEnv(dir), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Until it looks at the lock (it opens the file first), then a while longer.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ appid: VALUES.appid });
    // What the holder wrote under its lock is what the waiting write must start from.
    await writeFile(path, JSON.stringify({ appid: VALUES.appid, 'base-url': VALUES['base-url'] }));
    await rm(lock);
    expect(await exited).toBe(0);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      appid: VALUES.appid,
      'base-url': VALUES['base-url'],
      secret: VALUES.secret,
    });
  });
});

/**
 * A config folder and file this process made, that the CLI can read and not write: the folder
 * (and, when asked, the file) made read-only, and the CLI run so that permission bits stop it
 * even when the tests run as root (`unprivileged`). It meets EACCES, as with a root-owned config.
 */
async function readOnlyConfig(content: Record<string, unknown>, fileMode = 0o644): Promise<{ dir: string; path: string }> {
  const dir = await tempDir();
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify(content));
  await chmod(path, fileMode);
  await chmod(dir, 0o555);
  return { dir, path };
}

function runUnprivileged(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const [file, argv] = unprivileged(process.execPath, [BIN, ...args]);
  const child = spawn(file, argv, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr })));
}

describe.runIf(onPosix)('a config file that can be read but not written', () => {
  it('serves an AppID and AppSecret run: the token is not cached, nothing is said off a terminal, the file is left as it was', async () => {
    const api = await fake({ followers: 3 });
    const content = { appid: FAKE_APPID, secret: FAKE_SECRET, 'base-url': api.url };
    const { dir, path } = await readOnlyConfig(content);
    const before = await stat(path);
    for (const run of [1, 2]) {
      const result = await runUnprivileged(['export'], cleanEnv(dir));
      expect([result.code, result.stderr, result.stdout.toString()], `run ${run}`).toEqual([0, '', lines(allOpenids(api.followers))]);
    }
    // Not cached, so each run asked for the token.
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token')).toHaveLength(2);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(content);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('`config set` says the file cannot be written (exit 1), and keeps it; no advice to move it away', async () => {
    const { dir, path } = await readOnlyConfig({ appid: FAKE_APPID });
    const result = await runUnprivileged(['config', 'set', 'secret', FAKE_SECRET], cleanEnv(dir));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `wx-followers: The config file ${path} cannot be written (EACCES), so the change is not stored; what it holds is still used. Make its folder ${dir} writable by this user, or point WX_FOLLOWERS_CONFIG_DIR at a folder of your own.\n`,
    );
    expect(result.stderr).not.toContain(FAKE_SECRET);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ appid: FAKE_APPID });
  });

  it.runIf(onLinux)('says once on a terminal that the token is not cached, though a renewal fails to write twice', async () => {
    // Renewed after two list calls: the refused token is forgotten and the new one cached, two writes.
    const api = await fake({ followers: 5, pageSize: 1, tokenLifetimeCalls: 2 });
    const { dir } = await readOnlyConfig({ appid: FAKE_APPID, secret: FAKE_SECRET, 'base-url': api.url });
    const output = join(await tempDir(), 'out.txt');
    await chmod(join(output, '..'), 0o777);
    // A terminal made by util-linux's `script -qec`.
    const screen = await new Promise<string>((resolve) => {
      const [file, argv] = unprivileged('script', [
        '-qec',
        `"${process.execPath}" "${BIN}" export --no-progress -o "${output}"`,
        '/dev/null',
      ]);
      const child = spawn(file, argv, {
        env: cleanEnv(dir, { TERM: 'dumb' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('close', () => resolve(text));
    });
    const notices = screen.split(/\r?\n/).filter((line) => line.includes('not cached'));
    expect(notices).toEqual([
      expect.stringMatching(
        /^wx-followers: the access token is not cached; the next run asks stable_token again\. The config file .* cannot be written \(EACCES\)/,
      ),
    ]);
    expect(await readFile(output, 'utf8')).toBe(lines(allOpenids(api.followers)));
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token').length).toBeGreaterThan(1);
  });
});

describe.runIf(onPosix)('a config file that cannot be read', () => {
  it('is exit 2 before any call, saying it cannot be read, also with a token given', async () => {
    const api = await fake({ followers: 3 });
    const { dir, path } = await readOnlyConfig({ appid: FAKE_APPID }, 0o000);
    for (const extra of [{}, { WX_ACCESS_TOKEN: FAKE_TOKEN }] as Record<string, string>[]) {
      const result = await runUnprivileged(['export', '--base-url', api.url, '--no-proxy'], cleanEnv(dir, extra));
      expect([result.code, result.stderr]).toEqual([
        2,
        `wx-followers: The config file ${path} cannot be read (EACCES). Make it readable by this user (ls -l '${path}'), or point WX_FOLLOWERS_CONFIG_DIR at a folder of your own.\n`,
      ]);
    }
    expect(api.calls).toEqual([]);
  });
});
