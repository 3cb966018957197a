import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi } from './fake-api/server.js';
import { cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

/** With a token command or URL, the tool never mints a token: no test here may see stable_token or the legacy token asked. */
const fake = useFakes((apis) => {
  for (const api of apis) {
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token' || call.path === '/cgi-bin/token')).toEqual([]);
  }
});

const FIXTURE = fileURLToPath(new URL('./fixtures/token-command.mjs', import.meta.url));

/** The fixture as a token command: `"node" "token-command.mjs" MODE ARGS...`, quoted for sh and cmd alike. */
function fixtureCommand(...args: string[]): string {
  return [process.execPath, FIXTURE, ...args].map((part) => JSON.stringify(part)).join(' ');
}

interface LogEntry {
  mode: string;
  appid: string | null;
  refresh: string | null;
  grandchild?: number;
}

interface Run {
  result: CliResult;
  /** The fixture's calls, in order. */
  log: LogEntry[];
  dir: string;
}

async function runWith(args: string[], env: Record<string, string> = {}, dir?: string): Promise<Run> {
  const home = dir ?? (await tempDir());
  const logPath = join(home, 'token-command.log');
  const result = await runCli(args, { env: cleanEnv(home, { TOKEN_FIXTURE_LOG: logPath, ...env }) });
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const log = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogEntry);
  return { result, log, dir: home };
}

async function exportWith(api: FakeApi, command: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return runWith(['export', '--base-url', api.url, '--token-command', command, ...args], env);
}

/** Whether the process runs: gone, or a zombie that a container's init has not reaped (Linux tells; elsewhere signal 0 asks). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

function output(run: Run): string {
  return run.result.stdout.toString() + run.result.stderr;
}

describe('--token-command', () => {
  it('takes the token the command prints, gives it WX_APPID, and caches nothing', async () => {
    const api = await fake({ followers: 23_000 });
    // A WX_TOKEN_REFRESH left in the person's environment is not the tool's word: not passed on.
    const run = await exportWith(api, fixtureCommand('token', FAKE_TOKEN), ['--appid', FAKE_APPID], { WX_TOKEN_REFRESH: '1' });
    expect([run.result.code, run.result.stderr]).toEqual([0, '']);
    expect(run.result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(run.log).toEqual([{ mode: 'token', appid: FAKE_APPID, refresh: null }]);
    // The config file is not even created: no token cache.
    await expect(readFile(join(run.dir, 'config.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('reads JSON with access_token and expires_in, and gives no WX_APPID when none is known', async () => {
    const api = await fake({ followers: 3 });
    // A blank WX_APPID counts as not given: the command is not handed it either.
    const run = await exportWith(api, fixtureCommand('json', FAKE_TOKEN, '7200'), [], { WX_APPID: ' ' });
    expect([run.result.code, run.result.stderr]).toEqual([0, '']);
    expect(run.log).toEqual([{ mode: 'json', appid: null, refresh: null }]);
  });

  it('is asked again with WX_TOKEN_REFRESH=1 when the API refuses its token, and the export goes on from the same cursor', async () => {
    const api = await fake({ followers: 23_000 });
    const run = await exportWith(api, fixtureCommand('refresh', 'STALE_TOKEN_of_another_program', FAKE_TOKEN));
    expect([run.result.code, run.result.stderr]).toEqual([0, '']);
    expect(run.result.stdout.toString()).toBe(lines(allOpenids(api.followers)));
    expect(run.log.map((entry) => entry.refresh)).toEqual([null, '1']);
    const listCalls = api.calls.filter((call) => call.path === '/cgi-bin/user/get');
    expect(listCalls.map((call) => call.query.get('access_token'))).toEqual([
      'STALE_TOKEN_of_another_program',
      ...Array(4).fill(FAKE_TOKEN),
    ]);
    expect(listCalls[1]?.query.get('next_openid')).toBe(listCalls[0]?.query.get('next_openid'));
  });

  it('asked again once: a second refusal is exit 3, naming the command, never a token, with the cursor', async () => {
    const againToken = 'REFUSED_TOKEN_again_0123456789';
    const api = await fake({
      followers: 23_000,
      // The API echoes the token it refused: the message must blank it all the same.
      fault: (call) =>
        call.index > 1
          ? { kind: 'errcode', errcode: 40001, errmsg: `invalid credential ${call.query.get('access_token')} rid: 6543-21` }
          : undefined,
      token: FAKE_TOKEN,
    });
    const run = await exportWith(api, fixtureCommand('refresh', FAKE_TOKEN, againToken), ['--appid', FAKE_APPID]);
    expect(run.result.code).toBe(3);
    expect(run.log.map((entry) => entry.refresh)).toEqual([null, '1']);
    expect(run.result.stderr).toMatch(
      /refused the access token that the token command from --token-command gave when asked again \(WX_TOKEN_REFRESH=1\), as it refused the one before \(errcode 40001: invalid credential \[redacted\] rid: 6543-21/,
    );
    expect(run.result.stderr).toMatch(new RegExp(`--resume ${api.followers.at(9_999)}`));
    expect(output(run)).not.toContain(againToken);
    expect(output(run)).not.toContain(FAKE_TOKEN);
  });

  it('is asked again before the expires_in it gave runs out, without WX_TOKEN_REFRESH', async () => {
    // A lifetime of 1 s is renewed 0.1 s before its end; the second page comes 1.5 s after the first.
    const api = await fake({
      followers: 23_000,
      fault: (call) => (call.index === 2 ? { kind: 'slow', delayMs: 1_500 } : undefined),
    });
    const run = await exportWith(api, fixtureCommand('json', FAKE_TOKEN, '1'));
    expect([run.result.code, run.result.stderr]).toEqual([0, '']);
    expect(run.log.length).toBeGreaterThanOrEqual(2);
    expect(run.log.every((entry) => entry.refresh === null)).toBe(true);
  });

  it.each([
    [
      'fails',
      ['fail'],
      /token-command: the central token server said no\n[\s\S]*failed \(exit status 1\)\. Its own messages, if any, are above/,
    ],
    ['prints nothing', ['nothing'], /printed nothing on stdout\. It must give the access token alone on one line, or a JSON object/],
    ['prints garbage', ['garbage'], /printed 3 lines that are not a token on stdout\./],
    [
      'prints a secret-looking line',
      ['print', `AppSecret=${FAKE_SECRET} password: hunter2`],
      /printed a line that is not a token on stdout/,
    ],
    ['is not found by the shell', ['nothing'], /failed \(exit status 127: the shell did not find the command/],
  ])('that %s is exit 3 before any call, showing none of its stdout', async (name, args, message) => {
    const api = await fake({ followers: 3 });
    const command = name === 'is not found by the shell' ? 'wx-followers-no-such-command-4711' : fixtureCommand(...args);
    const run = await exportWith(api, command);
    expect(run.result.code).toBe(3);
    expect(run.result.stderr).toMatch(message);
    expect(run.result.stderr).toMatch(/^wx-followers: The token command from --token-command /m);
    expect(output(run)).not.toMatch(/GARBAGE_LINE|hunter2|html/);
    expect(output(run)).not.toContain(FAKE_SECRET);
    expect(run.result.stdout.toString()).toBe('');
    expect(api.calls).toEqual([]);
  });

  it('that hangs is stopped at --timeout, with what it started, and is exit 3', async () => {
    const api = await fake({ followers: 3 });
    const run = await exportWith(api, fixtureCommand('hang'), ['--timeout', '1500']);
    expect(run.result.code).toBe(3);
    expect(run.result.stderr).toMatch(/gave no token within 1500 ms \(--timeout\) and was stopped/);
    const grandchild = run.log[0]?.grandchild;
    expect(grandchild).toBeTypeOf('number');
    expect(isRunning(grandchild ?? 0)).toBe(false);
  });

  it('gives `wx-followers token` its token, and a --state file records where it came from, never the token', async () => {
    const api = await fake({ followers: 15_000, dailyQuota: 1 });
    const token = await runWith(['token', '--token-command', fixtureCommand('token', FAKE_TOKEN)]);
    expect([token.result.code, token.result.stdout.toString()]).toEqual([0, `${FAKE_TOKEN}\n`]);
    const dir = await tempDir();
    const statePath = join(dir, 'followers.state');
    const run = await exportWith(api, fixtureCommand('token', FAKE_TOKEN), ['-o', join(dir, 'f.txt'), '--state', statePath]);
    expect(run.result.code).toBe(4);
    const state = await readFile(statePath, 'utf8');
    expect(JSON.parse(state)).toMatchObject({ account: { tokenFrom: 'the token command from --token-command' } });
    expect(state).not.toContain(FAKE_TOKEN);
  });
});

describe('the order of the token sources', () => {
  it.each([
    ['--secret and --token-command', ['--token-command', 'X', '--appid', FAKE_APPID, '--secret', FAKE_SECRET], {}],
    ['--access-token and --token-command', ['--token-command', 'X', '--access-token', FAKE_TOKEN], {}],
    ['--token-command and --token-url', ['--token-command', 'X', '--token-url', 'https://tokens.example/wx'], {}],
    ['WX_ACCESS_TOKEN and WX_TOKEN_COMMAND', [], { WX_TOKEN_COMMAND: 'X', WX_ACCESS_TOKEN: FAKE_TOKEN }],
    ['WX_SECRET and WX_TOKEN_URL', [], { WX_TOKEN_URL: 'https://tokens.example/wx', WX_SECRET: FAKE_SECRET, WX_APPID: FAKE_APPID }],
  ])('%s at the same level is a usage error before any call', async (names, args, env) => {
    const api = await fake({ followers: 3 });
    const run = await runWith(['export', '--base-url', api.url, ...args], env);
    expect(run.result.code).toBe(2);
    expect(run.result.stderr).toContain(`${names} were given together`);
    expect(run.result.stderr).toMatch(/give only one source of the token/);
    expect(output(run)).not.toContain(FAKE_SECRET);
    expect(api.calls).toEqual([]);
    expect(run.log).toEqual([]);
  });

  it('takes a token command on the command line over an AppSecret in the environment, and never asks stable_token', async () => {
    const api = await fake({ followers: 3 });
    const run = await exportWith(api, fixtureCommand('token', FAKE_TOKEN), [], { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET });
    expect([run.result.code, run.log.length]).toEqual([0, 1]);
    expect(run.log[0]?.appid).toBe(FAKE_APPID);
  });

  it('takes a token command in the environment over an access token and an AppSecret in the config file', async () => {
    const api = await fake({ followers: 3 });
    const dir = await tempDir();
    for (const [key, value] of [
      ['access-token', 'CONFIG_TOKEN_not_accepted_000'],
      ['secret', FAKE_SECRET],
      ['appid', FAKE_APPID],
    ] as const) {
      expect((await runCli(['config', 'set', key, value], { env: cleanEnv(dir) })).code).toBe(0);
    }
    const run = await runWith(['export', '--base-url', api.url], { WX_TOKEN_COMMAND: fixtureCommand('token', FAKE_TOKEN) }, dir);
    expect([run.result.code, run.result.stderr]).toEqual([0, '']);
    expect(run.log).toEqual([{ mode: 'token', appid: FAKE_APPID, refresh: null }]);
  });

  it('takes an access token on the command line over a token command in the environment', async () => {
    const api = await fake({ followers: 3 });
    const run = await runWith(['export', '--base-url', api.url, '--access-token', FAKE_TOKEN], {
      WX_TOKEN_COMMAND: fixtureCommand('token', 'NOT_THIS_TOKEN_0123456789'),
    });
    expect([run.result.code, run.log]).toEqual([0, []]);
  });
});

describe('config keys token-command and token-url', () => {
  it('token-command is masked by config list and get, and serves an export', async () => {
    const api = await fake({ followers: 3 });
    const dir = await tempDir();
    const command = fixtureCommand('token', FAKE_TOKEN);
    expect((await runCli(['config', 'set', 'token-command', command], { env: cleanEnv(dir) })).code).toBe(0);
    const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
    expect(list.stdout.toString()).toBe('token-command=********\n');
    const get = await runCli(['config', 'get', 'token-command', '--reveal'], { env: cleanEnv(dir) });
    expect(get.stdout.toString()).toBe(`${command}\n`);
    const run = await runWith(['export', '--base-url', api.url], {}, dir);
    expect([run.result.code, run.log.length]).toEqual([0, 1]);
  });

  it('token-url is checked when set and shown without its query', async () => {
    const dir = await tempDir();
    const withUser = await runCli(['config', 'set', 'token-url', 'https://user:pw@tokens.example/wx'], { env: cleanEnv(dir) });
    expect(withUser.code).toBe(2);
    expect(withUser.stderr).toMatch(/carries a user or password: give the service's credentials in WX_TOKEN_URL_AUTH/);
    expect(withUser.stderr).not.toContain('pw@');
    const plain = await runCli(['config', 'set', 'token-url', 'http://tokens.example/wx'], { env: cleanEnv(dir) });
    expect([plain.code, plain.stderr]).toEqual([2, expect.stringMatching(/must use https:\/\//)]);
    const url = 'https://tokens.example/wx/{appid}?key=KEY_do_not_show';
    expect((await runCli(['config', 'set', 'token-url', url], { env: cleanEnv(dir) })).code).toBe(0);
    const list = await runCli(['config', 'list'], { env: cleanEnv(dir) });
    expect(list.stdout.toString()).toBe('token-url=https://tokens.example/wx/{appid}?***\n');
  });
});
