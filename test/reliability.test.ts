import { spawn, spawnSync } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi } from './fake-api/server.js';
import { BIN, cleanEnv, exportFrom, lines, onLinux, onPosix, resumeCursor, runProcess, tempDir, type CliResult } from './helpers/cli.js';
import { STALLING_LIST, useFakes } from './helpers/fakes.js';

const fake = useFakes();

describe('transient failures in an export', () => {
  it('are retried and the output is whole', async () => {
    const faults = [
      { kind: 'reset' },
      { kind: 'status', status: 503 },
      { kind: 'errcode', errcode: -1 },
      { kind: 'truncate' },
      { kind: 'slow', delayMs: 500 },
      { kind: 'errcode', errcode: 45011 },
    ] as const;
    const api = await fake({
      followers: 23_000,
      pageSize: 2_000,
      fault: (call) => (call.index % 2 === 0 ? faults[(call.index / 2) % faults.length] : undefined),
    });
    const result = await exportFrom(api, ['--timeout', '200', '-f', 'csv']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it('stop with exit 5, the errcode and the cursor once --retries are spent', async () => {
    const api = await fake({
      followers: 23_000,
      fault: (call) => (call.index > 1 ? { kind: 'errcode', errcode: -1, errmsg: 'system error' } : undefined),
    });
    const result = await exportFrom(api, ['--retries', '2']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/busy \(errcode -1: system error.*Gave up after 2 retries/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
    expect(api.calls).toHaveLength(4);
  });
});

describe('the daily quota (45009)', () => {
  it('stops at once with exit 4, the cursor and when the quota resets', async () => {
    const api = await fake({ followers: 23_000, dailyQuota: 2 });
    const result = await exportFrom(api, []);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/daily quota .*errcode 45009.*midnight Beijing time/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(19_999));
    expect(api.calls).toHaveLength(3);
  });
});

/** Signals are sent to a child only on POSIX: on Windows, child.kill() ends it at once. */
const posixOnly = onPosix ? describe : describe.skip;

posixOnly('signals', () => {
  /**
   * `seen` is the signal the CLI gets: sent by the test, except SIGBREAK, which exists only on
   * Windows: the CLI runs in a wrapper that raises it when SIGUSR2 comes.
   */
  async function interrupt(seen: 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGBREAK', exitCode: number): Promise<void> {
    const api = await fake(STALLING_LIST);
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const wrapper = join(dir, 'wrapper.mjs');
    await writeFile(
      wrapper,
      `process.on('SIGUSR2', () => process.emit('SIGBREAK', 'SIGBREAK'));\nawait import(${JSON.stringify(pathToFileURL(BIN).href)});\n`,
    );
    // With the AppID and AppSecret the config store is open for the token cache (conf's writer,
    // before the store was the tool's own, raised the signal a second time).
    const child = spawn(process.execPath, [wrapper, 'export', '--base-url', api.url, '-f', 'csv', '-o', file], {
      env: cleanEnv(dir, { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET }),
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The fifth call stalls: once the first three pages are in the file, no page is in hand
    // (the fourth, asked for ahead, waits on the stalled call), and the run waits for an answer.
    const written = `openid\n${lines(allOpenids(api.followers).slice(0, 3_000))}`;
    while (api.calls.length < 5 || (await stat(`${file}.partial`).catch(() => undefined))?.size !== written.length) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The write's completion reaches the run a moment after the file has the bytes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill(seen === 'SIGBREAK' ? 'SIGUSR2' : seen);
    const code = await exited;
    expect(code).toBe(exitCode);
    // The run waits for an answer: no page is being written, and it stops at once.
    expect(stderr).toContain(`wx-followers: ${seen}: stopping (no page in hand).`);
    expect(stderr).toMatch(new RegExp(`Interrupted \\(${seen}\\)`));
    expect(stderr).toMatch(/3,000 OpenIDs written \(kept in .*followers\.csv\.partial\)/);
    expect(resumeCursor(stderr)).toBe(api.followers.at(2_999));
    expect(await readFile(`${file}.partial`, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers).slice(0, 3_000))}`);
    await expect(stat(file)).rejects.toThrow();
  }

  it('SIGINT stops after the page in hand, keeps FILE.partial, names the cursor, exits 130', async () => {
    await interrupt('SIGINT', 130);
  });

  it('SIGTERM does the same with exit 143', async () => {
    await interrupt('SIGTERM', 143);
  });

  it('SIGHUP (a closed terminal or console window) does the same with exit 129', async () => {
    await interrupt('SIGHUP', 129);
  });

  it("SIGBREAK (Windows' Ctrl-Break) does the same with exit 149", async () => {
    await interrupt('SIGBREAK', 149);
  });

  it('Ctrl-C while stdout drains slowly says so at once; a second quits at once, naming the last OpenID written whole', async () => {
    // Pages of 1.4 MB: far more than a pipe and the reader's buffer hold, so that the second page
    // cannot drain while the reader stands still, however the machine is loaded.
    const api = await fake({ followers: 200_000, pageSize: 50_000 });
    const dir = await tempDir();
    const child = spawn(process.execPath, [BIN, 'export', '--base-url', api.url], { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const closed = new Promise((resolve) => child.on('close', resolve));
    // The first page is read whole; then the reader stops, and the second page waits on the pipe
    // (the third page asked for, ahead, says that the second is being written).
    const firstPage = lines(allOpenids(api.followers).slice(0, 50_000));
    const read: Buffer[] = [];
    let readBytes = 0;
    const onData = (chunk: Buffer): void => {
      read.push(chunk);
      readBytes += chunk.length;
      if (readBytes >= firstPage.length) child.stdout.pause();
    };
    child.stdout.on('data', onData);
    while (readBytes < firstPage.length || api.calls.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGINT');
    while (!stderr.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stderr).toBe('wx-followers: SIGINT: finishing the page in hand, then stopping. A second Ctrl-C quits at once.\n');
    // Past the window in which a signal raised again at once counts as the first.
    await new Promise((resolve) => setTimeout(resolve, 400));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    // Then read what is still in the pipe, up to its end.
    child.stdout.off('data', onData);
    child.stdout.on('data', (chunk: Buffer) => read.push(chunk));
    child.stdout.resume();
    await closed;
    expect(stderr).toMatch(/quit at once \(a second ctrl-c\): the output may end in a cut line\. The last OpenID written whole is /);
    // Everything up to the named OpenID is there, whole; the page after it did not get through.
    const cursor = api.followers.indexOf(resumeCursor(stderr));
    expect(cursor).toBeGreaterThanOrEqual(49_999);
    expect(
      Buffer.concat(read)
        .toString()
        .startsWith(lines(allOpenids(api.followers).slice(0, cursor + 1))),
    ).toBe(true);
    expect(Buffer.concat(read).length).toBeLessThan(lines(allOpenids(api.followers)).length);
  });

  // A terminal of util-linux's `script`, closed under the export as a person closes the window.
  it.runIf(onLinux)('a closed terminal stops it as SIGHUP, exit 129, though its message can no longer be written', async () => {
    const api = await fake(STALLING_LIST);
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const exitFile = join(dir, 'exit');
    // The shell in the terminal dies with it: the CLI's own exit hook says how it ended.
    const hook = join(dir, 'exit-hook.mjs');
    await writeFile(
      hook,
      `import { writeFileSync } from 'node:fs';\nprocess.on('exit', (code) => writeFileSync(${JSON.stringify(exitFile)}, String(code)));\n`,
    );
    const command = `"${process.execPath}" --import "${pathToFileURL(hook).href}" "${BIN}" export --base-url ${api.url} -f csv -o ${file}`;
    const terminal = spawn('script', ['-qec', command, '/dev/null'], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, TERM: 'xterm-256color' }),
    });
    const closed = new Promise((resolve) => terminal.on('close', resolve));
    while (api.calls.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    // Its progress is on screen when the window goes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    terminal.kill('SIGKILL');
    await closed;
    let code = await readFile(exitFile, 'utf8').catch(() => undefined);
    while (code === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      code = await readFile(exitFile, 'utf8').catch(() => undefined);
    }
    expect(code).toBe('129');
    const kept = await readFile(`${file}.partial`, 'utf8');
    const written = kept.split('\n').length - 2;
    expect(written).toBeGreaterThanOrEqual(1_000);
    expect(kept).toBe(`openid\n${lines(allOpenids(api.followers).slice(0, written))}`);
  });
});

posixOnly('the signal hook of the process', () => {
  const script = (steps: string): string => `
    import { systemStreams } from ${JSON.stringify(new URL('../dist/main.cjs', import.meta.url).href)};
    const calls = [];
    systemStreams().onInterrupt((signal) => { calls.push(signal); process.stderr.write('handled ' + signal + '\\n'); });
    setInterval(() => undefined, 1000);
    ${steps}`;

  it('takes a signal raised again at once (an exit hook) as one, and ends at once on a later second', async () => {
    const result = await runProcess(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script(`
          process.kill(process.pid, 'SIGINT');
          setTimeout(() => process.kill(process.pid, 'SIGINT'), 5);
          setTimeout(() => { process.stderr.write('still running\\n'); process.kill(process.pid, 'SIGINT'); }, 600);
        `),
      ],
      {},
    );
    expect(result.stderr).toBe('handled SIGINT\nstill running\n');
    expect(result.code).toBe(130);
  });
});

describe('an output that cannot be written', () => {
  // /dev/full, the full disk at hand, is Linux's; macOS and Windows have none.
  it.runIf(onLinux)('stops without further calls, with exit 1 and the reason', async () => {
    const api = await fake({ followers: 50_000 });
    const dir = await tempDir();
    const result = await runProcess('bash', ['-c', `"${process.execPath}" "${BIN}" export --base-url ${api.url} > /dev/full`], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Could not write to stdout: .*ENOSPC/);
    expect(result.stderr).not.toMatch(/--resume/);
    expect(api.calls).toHaveLength(1);
  });

  // `>&-` is a POSIX shell's; Node puts /dev/null on the closed fd, where the export would vanish.
  it.runIf(onPosix)('stdout closed (`>&-`) is exit 1 before any call; `> /dev/null` and -o FILE are not refused', async () => {
    const api = await fake({ followers: 50 });
    const dir = await tempDir();
    const run = (args: string, redirect: string): Promise<CliResult> =>
      runProcess('bash', ['-c', `"${process.execPath}" "${BIN}" export --base-url ${api.url} ${args} ${redirect}`], {
        env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      });
    const closed = await run('', '>&-');
    expect([closed.code, closed.stderr]).toEqual([
      1,
      'wx-followers: stdout is closed (`>&-`, or started with no stdout), so the followers would be lost: nothing was asked of the API. Give --output FILE, or send stdout somewhere (`> FILE`; `> /dev/null` if you really want nothing).\n',
    ]);
    expect((await run('-o /dev/stdout', '>&-')).code).toBe(1);
    expect(api.calls).toHaveLength(0);
    expect(await run('', '> /dev/null')).toMatchObject({ code: 0, stderr: '' });
    const file = join(dir, 'followers.txt');
    expect(await run(`-o ${file}`, '>&-')).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(file, 'utf8')).toBe(lines(allOpenids(api.followers)));
  });

  it.runIf(onPosix).each([
    ['token', 'the token'],
    ['tags', 'the tags'],
    ['check', 'the report'],
    ['diff a.txt b.txt', 'the changes'],
    ['config list', 'what config list prints'],
    ['config get appid', 'what config get prints'],
    ['config path', 'what config path prints'],
  ])('`%s` with stdout closed (`>&-`) is exit 1 before it does anything, saying %s would be lost', async (args, what) => {
    const api = await fake({ followers: 5 });
    const dir = await tempDir();
    await writeFile(join(dir, 'a.txt'), 'oA\n');
    await writeFile(join(dir, 'b.txt'), 'oB\n');
    const result = await runProcess('bash', ['-c', `"${process.execPath}" "${BIN}" ${args} >&-`], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, WX_API_BASE_URL: api.url, WX_APPID: 'wx1234567890abcdef' }),
      cwd: dir,
    });
    expect([result.code, result.stderr]).toEqual([
      1,
      expect.stringContaining(`stdout is closed (\`>&-\`, or started with no stdout), so ${what} would be lost`),
    ]);
    expect(api.calls).toHaveLength(0);
  });

  it.runIf(onLinux).each([['token'], ['config path'], ['--help'], ['--version'], ['help'], ['export --help']])(
    '`%s` fails with exit 1 and the reason, never exit 0 with nothing written',
    async (args) => {
      const dir = await tempDir();
      const result = await runProcess('bash', ['-c', `"${process.execPath}" "${BIN}" ${args} > /dev/full`], {
        env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      });
      expect([result.code, result.stderr]).toEqual([
        1,
        'wx-followers: Could not write to stdout: ENOSPC: no space left on device, write.\n',
      ]);
    },
  );
});

describe('--state', () => {
  async function stateRun(api: FakeApi, dir: string, extra: string[] = []): Promise<CliResult> {
    return exportFrom(api, ['-f', 'csv', '-o', join(dir, 'followers.csv'), '--state', join(dir, 'followers.state'), ...extra]);
  }

  it('carries an export across days of quota, then starts afresh once done', async () => {
    const api = await fake({ followers: 23_000, pageSize: 5_000, dailyQuota: 2 });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const first = await stateRun(api, dir);
    expect(first.code).toBe(4);
    expect(first.stderr).toMatch(/run the same command with the same --state again/);
    const state = JSON.parse(await readFile(join(dir, 'followers.state'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ cursor: api.followers.at(9_999), written: 10_000, format: 'csv', done: false, output: file });
    // A crash after a page was written but before the state recorded it leaves bytes past the cursor.
    // Longer than all that is still to come, so that only cutting it off gives the right file.
    await appendFile(`${file}.partial`, 'half a page\n'.repeat(100_000));

    api.newDay();
    // Without --format: the unfinished export keeps its own.
    const second = await exportFrom(api, ['-o', file, '--state', join(dir, 'followers.state')]);
    expect(second.code).toBe(4);
    api.newDay();
    const third = await stateRun(api, dir);
    expect([third.code, third.stderr]).toEqual([0, '']);
    expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    expect(JSON.parse(await readFile(join(dir, 'followers.state'), 'utf8'))).toMatchObject({ done: true, written: 23_000 });
    const calls = api.calls.length;

    api.newDay();
    const fresh = await stateRun(api, dir, ['--limit', '100']);
    expect(fresh.code).toBe(0);
    expect(api.calls.length - calls).toBe(1);
    expect(api.calls.at(-1)?.rawQuery).not.toContain('next_openid');
  });

  it.each([
    [
      'a cursor edited to an earlier OpenID',
      (state: Record<string, unknown>, api: FakeApi) => ({ ...state, cursor: api.followers.at(4_999) }),
      /and .*followers\.csv\.partial ends there with OpenID /,
    ],
    [
      'outputBytes past the end of FILE.partial',
      (state: Record<string, unknown>) => ({ ...state, outputBytes: (state['outputBytes'] as number) + 100 }),
      /and .*followers\.csv\.partial is only \d+ bytes long/,
    ],
  ])('refuses a state that does not agree with FILE.partial (%s): exit 2 before any call, both untouched', async (_name, edit, problem) => {
    const api = await fake({ followers: 23_000, pageSize: 5_000, dailyQuota: 2 });
    const dir = await tempDir();
    const statePath = join(dir, 'followers.state');
    expect((await stateRun(api, dir)).code).toBe(4);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
    await writeFile(statePath, JSON.stringify(edit(state, api)));
    const before = [await readFile(statePath), await readFile(join(dir, 'followers.csv.partial'))];
    api.newDay();
    const calls = api.calls.length;
    const result = await stateRun(api, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /The state file .*followers\.state and .*followers\.csv\.partial do not agree: the state records OpenID /,
    );
    expect(result.stderr).toMatch(problem);
    expect(result.stderr).toMatch(/To start the export afresh, remove .*followers\.state and .*followers\.csv\.partial\.\n$/);
    expect(result.stderr).not.toMatch(/same --state again/);
    expect(api.calls.length).toBe(calls);
    expect([await readFile(statePath), await readFile(join(dir, 'followers.csv.partial'))]).toEqual(before);
  });

  it('makes --limit one chunk of a longer export that the next run continues', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const first = await stateRun(api, dir, ['--limit', '15000']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/stopped at --limit 15000 .*Run the same command again/);
    await expect(stat(file)).rejects.toThrow();
    const second = await stateRun(api, dir);
    expect(second.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it('refuses a second run while the first holds the lock, before any request', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    await writeFile(
      join(dir, 'followers.state.lock'),
      JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: Date.now() }),
    );
    const result = await stateRun(api, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`Another run \\(pid ${process.pid} `));
    expect(api.calls).toHaveLength(0);
  });

  it('takes over a lock left by a run that crashed', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('close', resolve));
    await writeFile(
      join(dir, 'followers.state.lock'),
      JSON.stringify({ pid: dead.pid, host: (await import('node:os')).hostname(), since: Date.now() }),
    );
    const result = await stateRun(api, dir);
    expect(result.code).toBe(0);
    await expect(stat(join(dir, 'followers.state.lock'))).rejects.toThrow();
  });

  it('refuses a corrupt state file and leaves it as it was', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    await writeFile(join(dir, 'followers.state'), '{"version":1,"output":');
    const result = await stateRun(api, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not a wx-followers state \(not JSON\)/);
    expect(await readFile(join(dir, 'followers.state'), 'utf8')).toBe('{"version":1,"output":');
    expect(api.calls).toHaveLength(0);
  });

  it('refuses a state that belongs to another output or format', async () => {
    const api = await fake({ followers: 23_000, dailyQuota: 1 });
    const dir = await tempDir();
    expect((await stateRun(api, dir)).code).toBe(4);
    const before = await readFile(join(dir, 'followers.state'), 'utf8');
    const other = await exportFrom(api, ['-o', join(dir, 'other.csv'), '--state', join(dir, 'followers.state')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/belongs to an unfinished export into .*followers\.csv/);
    const format = await exportFrom(api, ['-f', 'ndjson', '-o', join(dir, 'followers.csv'), '--state', join(dir, 'followers.state')]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/unfinished csv export/);
    expect(await readFile(join(dir, 'followers.state'), 'utf8')).toBe(before);
  });

  it('records the AppID and refuses another account before any call, naming the one it belongs to', async () => {
    const api = await fake({ followers: 23_000, dailyQuota: 1 });
    const dir = await tempDir();
    const statePath = join(dir, 'followers.state');
    const app = { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET };
    const args = ['-o', join(dir, 'followers.csv'), '--state', statePath];
    expect((await exportFrom(api, args, app)).code).toBe(4);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ account: { appid: FAKE_APPID } });
    const before = await readFile(statePath, 'utf8');
    api.newDay();
    const calls = api.calls.length;

    const other = await exportFrom(api, args, { WX_APPID: 'wx0000000000000000', WX_SECRET: FAKE_SECRET });
    expect([other.code, api.calls.length]).toEqual([2, calls]);
    expect(other.stderr).toContain(
      `belongs to an unfinished export of the account with AppID ${FAKE_APPID}, and this run is for the account with AppID wx0000000000000000. Run it under the account it started with, or give this export another --state file.\n`,
    );
    const tokenOnly = await exportFrom(api, args);
    expect([tokenOnly.code, api.calls.length]).toEqual([2, calls]);
    expect(tokenOnly.stderr).toMatch(/this run is for an account known only by its access token, from WX_ACCESS_TOKEN\./);
    expect(tokenOnly.stderr).toContain(`If this run's token is that account's, give --appid ${FAKE_APPID} as well.\n`);
    for (const { stderr } of [other, tokenOnly]) expect(stderr).not.toMatch(new RegExp(`${FAKE_TOKEN}|${FAKE_SECRET}`));
    expect(await readFile(statePath, 'utf8')).toBe(before);

    // The same account goes on: one more page (the day's quota), from the recorded cursor.
    const same = await exportFrom(api, args, app);
    expect(same.code).toBe(4);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ written: 20_000, cursor: api.followers.at(19_999) });
  });

  it('without an AppID records where the token comes from (never the token); an older state without an account goes on and records it', async () => {
    const api = await fake({ followers: 33_000, dailyQuota: 1 });
    const dir = await tempDir();
    const statePath = join(dir, 'followers.state');
    const args = ['-o', join(dir, 'followers.csv'), '--state', statePath];
    expect((await exportFrom(api, args)).code).toBe(4);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
    expect(state['account']).toEqual({ tokenFrom: 'WX_ACCESS_TOKEN' });
    expect(await readFile(statePath, 'utf8')).not.toContain(FAKE_TOKEN);
    // As an older version wrote it: no account.
    const { account: _dropped, ...older } = state;
    await writeFile(statePath, JSON.stringify(older));
    api.newDay();
    const continued = await exportFrom(api, ['--access-token', FAKE_TOKEN, ...args], { WX_ACCESS_TOKEN: '' });
    expect(continued.code).toBe(4);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ account: { tokenFrom: '--access-token' }, written: 20_000 });

    api.newDay();
    const calls = api.calls.length;
    const otherSource = await exportFrom(api, args);
    expect([otherSource.code, api.calls.length]).toEqual([2, calls]);
    expect(otherSource.stderr).toMatch(
      /belongs to an unfinished export of an account known only by its access token, from --access-token, and this run is for an account known only by its access token, from WX_ACCESS_TOKEN\./,
    );
    expect(otherSource.stderr).not.toContain(FAKE_TOKEN);
    const same = await exportFrom(api, ['--access-token', FAKE_TOKEN, ...args], { WX_ACCESS_TOKEN: '' });
    expect(same.code).toBe(4);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ written: 30_000, cursor: api.followers.at(29_999) });
  });

  it.runIf(onPosix)('in a read-only folder is exit 2 before any call, as an output there is', async () => {
    const api = await fake({ followers: 10 });
    // root writes anywhere: the CLI runs so that permission bits stop it (`unprivileged`).
    const base = await mkdtemp(join(tmpdir(), 'wx-followers-read-only-'));
    try {
      const writable = join(base, 'out');
      const readOnly = join(base, 'ro');
      await mkdir(writable);
      await mkdir(readOnly);
      await chmod(base, 0o755);
      await chmod(writable, 0o777);
      await chmod(readOnly, 0o555);
      const run = (args: string[]): Promise<CliResult> =>
        runProcess(process.execPath, [BIN, 'export', '--base-url', api.url, ...args], {
          env: cleanEnv(writable, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
          cwd: writable,
          unprivileged: true,
        });
      const statePath = join(readOnly, 'followers.state');
      const state = await run(['-o', join(writable, 'followers.txt'), '--state', statePath]);
      expect([state.code, state.stderr]).toEqual([
        2,
        `wx-followers: --state ${statePath}: the folder ${readOnly} is not writable by this user. Put the state elsewhere.\n`,
      ]);
      const output = await run(['-o', join(readOnly, 'followers.txt')]);
      expect([output.code, output.stderr]).toEqual([
        2,
        `wx-followers: --output ${join(readOnly, 'followers.txt')}: the folder ${readOnly} is not writable by this user. Write elsewhere.\n`,
      ]);
      expect(api.calls).toHaveLength(0);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it.runIf(onPosix).each([['/dev/null'], ['a named pipe']])(
    'that is not a regular file (%s) is exit 2 before any call, asking for a file',
    async (what) => {
      const api = await fake({ followers: 10 });
      const dir = await tempDir();
      let statePath = '/dev/null';
      if (what !== '/dev/null') {
        statePath = join(dir, 'followers.state');
        expect(spawnSync('mkfifo', [statePath]).status).toBe(0);
      }
      const output = join(dir, 'followers.txt');
      const result = await exportFrom(api, ['-o', output, '--state', statePath]);
      expect([result.code, result.stderr]).toEqual([
        2,
        `wx-followers: --state ${statePath} is not a regular file (a device, named pipe or socket): the state is a file the tool replaces after each page. Give a path to a file, such as ${output}.state.\n`,
      ]);
      expect(api.calls).toHaveLength(0);
    },
    10_000,
  );

  it('needs --output and does not take --resume', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const noOutput = await exportFrom(api, ['--state', join(dir, 's')]);
    expect([noOutput.code, api.calls.length]).toEqual([2, 0]);
    const both = await exportFrom(api, ['--state', join(dir, 's'), '-o', join(dir, 'f'), '--resume', 'oABC']);
    expect(both.code).toBe(2);
  });
});
