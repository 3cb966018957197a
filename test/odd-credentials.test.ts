import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { configDirectory } from '../src/out/config-store.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi, type RecordedCall } from './fake-api/server.js';
import { BIN, cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const APP = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };

function stableCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/stable_token');
}

async function exportWith(api: FakeApi, env: Record<string, string>, args: string[] = [], dir?: string): Promise<CliResult> {
  return runCli(['export', '--base-url', api.url, ...args], { env: cleanEnv(dir ?? (await tempDir()), env) });
}

describe('renewal', () => {
  it('renews every expiry even when stable_token hands back the same string each time', async () => {
    const api = await fake({ followers: 50_000, pageSize: 5_000, tokenLifetimeCalls: 3, sameTokenString: true });
    const result = await exportWith(api, APP, ['--format', 'csv']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    // 11 list calls, 3 a token: the first token and 3 renewals, all the same string.
    expect(stableCalls(api)).toHaveLength(4);
  });

  it('shares one renewal among the batches refused together under --with-info', async () => {
    const api = await fake({ followers: 3_000, pageSize: 3_000, tokenLifetimeCalls: 16, sameTokenString: true, latencyMs: 5 });
    const result = await exportWith(api, APP, ['--with-info', '--format', 'ndjson', '--concurrency', '16']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.toString().split('\n')).toHaveLength(3_001);
    // 1 list call and 30 batches: 31 calls carry a token, 16 a token; one renewal per expiry, not one per refused batch.
    expect(stableCalls(api)).toHaveLength(2);
  });
});

describe('the token cache', () => {
  it('never hides a wrong or changed AppSecret, and keeps no secret', async () => {
    const api = await fake({ followers: 5 });
    const dir = await tempDir();
    expect((await exportWith(api, APP, [], dir)).code).toBe(0);
    const listed = api.calls.filter((call) => call.path === '/cgi-bin/user/get').length;
    const wrong = await exportWith(api, { ...APP, WX_SECRET: 'WRONG_SECRET_0000000000000001' }, [], dir);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/refused the AppSecret \(errcode 40125/);
    const wrongFlag = await exportWith(api, APP, ['--secret', 'WRONG_SECRET_0000000000000002'], dir);
    expect(wrongFlag.code).toBe(3);
    expect(api.calls.filter((call) => call.path === '/cgi-bin/user/get')).toHaveLength(listed);
    // The right secret again: its cached token, no new request.
    expect((await exportWith(api, APP, [], dir)).code).toBe(0);
    expect(stableCalls(api)).toHaveLength(3);
    const file = await readFile(join(dir, 'config.json'), 'utf8');
    expect(file).not.toContain(FAKE_SECRET);
    expect(file).not.toContain('WRONG_SECRET');
  });

  it('does not use an entry written before fingerprints, and replaces it', async () => {
    const api = await fake({ followers: 1 });
    const dir = await tempDir();
    const legacy = { [FAKE_APPID]: { accessToken: 'OLD_TOKEN_OF_ANOTHER_SECRET_0000', expiresAt: Date.now() + 3_600_000 } };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ 'token-cache': legacy }), { mode: 0o600 });
    expect((await exportWith(api, APP, [], dir)).code).toBe(0);
    expect(stableCalls(api)).toHaveLength(1);
    expect(await readFile(join(dir, 'config.json'), 'utf8')).not.toContain('OLD_TOKEN');
  });
});

describe('values with surrounding whitespace', () => {
  it('are trimmed from the environment, flags and the config store; blank is not given', async () => {
    const api = await fake({ followers: 3 });
    const whole = lines(allOpenids(api.followers));
    const envs: Record<string, string>[] = [
      { WX_ACCESS_TOKEN: `${FAKE_TOKEN}\n` },
      { WX_ACCESS_TOKEN: ` ${FAKE_TOKEN} ` },
      { WX_APPID: `${FAKE_APPID} `, WX_SECRET: `${FAKE_SECRET}\r\n` },
    ];
    for (const env of envs) {
      const result = await exportWith(api, env);
      expect([result.code, result.stdout.toString()], JSON.stringify(env)).toEqual([0, whole]);
    }
    const flag = await exportWith(api, {}, ['--access-token', ` ${FAKE_TOKEN}\n`]);
    expect(flag.code).toBe(0);
    const dir = await tempDir();
    expect((await runCli(['config', 'set', 'access-token', `${FAKE_TOKEN}\n`], { env: cleanEnv(dir) })).code).toBe(0);
    expect((await runCli(['config', 'get', 'access-token', '--reveal'], { env: cleanEnv(dir) })).stdout.toString()).toBe(`${FAKE_TOKEN}\n`);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({ 'access-token': FAKE_TOKEN });
    expect((await exportWith(api, {}, [], dir)).code).toBe(0);
    const handEdited = await tempDir();
    await writeFile(join(handEdited, 'config.json'), JSON.stringify({ 'access-token': ` ${FAKE_TOKEN}\n` }), { mode: 0o600 });
    expect((await exportWith(api, {}, [], handEdited)).code).toBe(0);
    const blank = await exportWith(api, { WX_ACCESS_TOKEN: ' \n' });
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/^wx-followers: No credentials/);
  });
});

describe('a corrupt config file', () => {
  it('is exit 2 naming the file and the way out, without a byte of its content', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await writeFile(path, '{"secret":MYSECRETUNQUOTED0001}', { mode: 0o600 });
    for (const args of [['config', 'list'], ['export', '--base-url', 'http://127.0.0.1:9'], ['token']]) {
      const result = await runCli(args, { env: cleanEnv(dir, { WX_APPID: FAKE_APPID }) });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toBe(
        `wx-followers: The config file ${path} is broken: it is not valid JSON. Fix it by hand (a JSON object such as {"appid": "wx..."}), ` +
          `or move it away to start with an empty one (mv '${path}' '${path}.bad'); then set the values again with \`wx-followers config set\`.\n`,
      );
    }
    expect(await readFile(path, 'utf8')).toBe('{"secret":MYSECRETUNQUOTED0001}');
  });
});

describe('the config store', () => {
  // In-process, on the function that picks the directory: the CLI would create the directory in
  // the real home of whoever runs the tests.
  it('does not land in the current directory when HOME is empty or relative', () => {
    const home = process.env['HOME'];
    const expected = join(userInfo().homedir, '.config', 'wx-followers');
    try {
      for (const value of ['', '.', 'relative/home']) {
        process.env['HOME'] = value;
        expect(configDirectory({ HOME: value }), JSON.stringify(value)).toBe(expected);
        expect(configDirectory({ HOME: value, XDG_CONFIG_HOME: 'relative' })).toBe(expected);
      }
      expect(configDirectory({ XDG_CONFIG_HOME: '/etc/xdg-test' })).toBe('/etc/xdg-test/wx-followers');
      expect(configDirectory({ WX_FOLLOWERS_CONFIG_DIR: ' /srv/wx \n' })).toBe('/srv/wx');
    } finally {
      if (home === undefined) delete process.env['HOME'];
      else process.env['HOME'] = home;
    }
  });

  it('`config set secret -` on a terminal prompts on stderr and does not echo what is typed', async () => {
    const dir = await tempDir();
    const typed = 'TYPED_SECRET_5e4d3c2b1a0f';
    const child = spawn('script', ['-qec', `"${process.execPath}" "${BIN}" config set secret -`, '/dev/null'], {
      env: cleanEnv(dir, { TERM: 'dumb' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const prompted = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString();
        if (screen.includes('not shown')) resolve();
      });
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await prompted;
    child.stdin.write(`${typed}\r`);
    const code = await closed;
    expect(code).toBe(0);
    expect(screen).toMatch(/^secret \(typing is not shown, Enter ends\): /);
    expect(screen).not.toContain(typed);
    const stored = await runCli(['config', 'get', 'secret', '--reveal'], { env: cleanEnv(dir) });
    expect(stored.stdout.toString()).toBe(`${typed}\n`);
  });
});

describe('a lock whose pid was reused', () => {
  it('is taken over when the pid now belongs to a process that started later; a live owner still holds it', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const lockPath = join(dir, 'followers.state.lock');
    const args = ['--state', join(dir, 'followers.state'), '-o', join(dir, 'followers.txt')];
    const ownStart = Number((await readFile(`/proc/${process.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[19]);
    // This test's own process stands for the run that took the pid over.
    const owner = { pid: process.pid, host: hostname(), since: Date.now(), nonce: 'n' };
    await writeFile(lockPath, JSON.stringify({ ...owner, started: ownStart - 1 }));
    const reused = await exportWith(api, { WX_ACCESS_TOKEN: FAKE_TOKEN }, args);
    expect([reused.code, reused.stderr]).toEqual([0, '']);
    await expect(stat(lockPath)).rejects.toThrow();

    await writeFile(lockPath, JSON.stringify({ ...owner, started: ownStart }));
    const held = await exportWith(api, { WX_ACCESS_TOKEN: FAKE_TOKEN }, args);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/Another run \(pid \d+ /);
  });
});

describe('diff inputs', () => {
  it('a directory is exit 2; a bad line is shown escaped', async () => {
    const dir = await tempDir();
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const good = join(dir, 'good.txt');
    await writeFile(good, 'oWx-Fake_0000000000000000001\n');
    const directory = await runCli(['diff', good, sub]);
    expect([directory.code, directory.stderr]).toEqual([
      2,
      `wx-followers: Cannot read ${sub}: it is a directory. diff takes two export files.\n`,
    ]);

    const bad = join(dir, 'bad.txt');
    await writeFile(bad, 'oWx-Fake_0000000000000000001\n\u001b[2J\u001b]0;x\u0007evil\u202e\n');
    const result = await runCli(['diff', good, bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("line 2 is not part of an export: '\\u{1b}[2J\\u{1b}]0;x\\u{7}evil\\u{202e}' is not an OpenID");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not get through.
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
  });
});
