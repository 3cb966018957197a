import { spawn } from 'node:child_process';
import { link, lstat, mkdir, open, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileEnd } from '../src/out/file-end.js';
import { Checkpoint, planState, type ExportKind } from '../src/out/state.js';
import { allOpenids, listedFollowers } from './fake-api/followers.js';
import { FAKE_TOKEN, type FakeApi } from './fake-api/server.js';
import { BIN, cleanEnv, exportFrom, lines, onLinux, onPosix, resumeCursor, runProcess, tempDir } from './helpers/cli.js';
import { STALLING_LIST, useFakes } from './helpers/fakes.js';

/** The plan's read of the state file, then the run's lock on it: what an export does. */
async function openCheckpoint(path: string, output: string, kind: ExportKind): Promise<Checkpoint> {
  return Checkpoint.take(await planState(path, output, kind));
}

const fake = useFakes();

/** A list of 23,000 whose fourth call (after 20,000 OpenIDs) fails while `failing.now` is set: exit 5 with --retries 0. */
async function flakyApi(): Promise<{ api: FakeApi; failing: { now: boolean } }> {
  const failing = { now: true };
  let cut: string | undefined;
  const api = await fake({
    followers: 23_000,
    fault: (call) =>
      failing.now && cut !== undefined && call.query.get('next_openid') === cut ? { kind: 'errcode', errcode: -1 } : undefined,
  });
  cut = api.followers.at(19_999);
  return { api, failing };
}

function ndjsonLines(openids: readonly string[]): string {
  return openids.map((openid) => `{"openid":"${openid}"}\n`).join('');
}

describe('checked before the first call', () => {
  it.each([
    ['a directory', (dir: string) => dir, /is a directory/],
    ['a file in a missing folder', (dir: string) => join(dir, 'missing', 'x.txt'), /the folder .*missing does not exist/],
    ['an empty name', () => '', /--output needs a file name/],
    ['a file under a regular file', (dir: string) => join(dir, 'plain', 'x.txt'), /plain is not a folder/],
  ])('-o %s is exit 2 without a call, and leaves nothing behind', async (_name, output, message) => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    await writeFile(join(dir, 'plain'), 'x');
    const result = await runProcess(process.execPath, [BIN, 'export', '--base-url', api.url, '-o', output(dir)], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(api.calls).toHaveLength(0);
    expect((await readdir(dir)).sort()).toEqual(['plain']);
  });

  it('shows a path with control characters escaped', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const result = await exportFrom(api, ['-o', join(dir, 'no\u001b[31mdir', 'x')]);
    expect([result.code, api.calls.length]).toEqual([2, 0]);
    expect(result.stderr).toContain(`--output ${dir}/no\\u{1b}[31mdir/x: the folder ${dir}/no\\u{1b}[31mdir does not exist`);
    expect(result.stderr).not.toContain('\u001b');
  });

  // Each case makes a symlink, which Windows allows only to administrators or in Developer Mode.
  it.runIf(onPosix).each([
    ['the output', (dir: string) => ({ output: join(dir, 'same.txt'), state: join(dir, 'same.txt') })],
    ["the output's .partial", (dir: string) => ({ output: join(dir, 'same.txt'), state: join(dir, 'same.txt.partial') })],
    ["the output, as the state's lock", (dir: string) => ({ output: join(dir, 's.lock'), state: join(dir, 's') })],
    ['the output, spelt another way', (dir: string) => ({ output: join(dir, 'same.txt'), state: join(dir, 'sub', '..', 'same.txt') })],
    [
      "the output's .partial, through a linked folder",
      (dir: string) => ({ output: join(dir, 'same.txt'), state: join(dir, 'alias', 'same.txt.partial') }),
    ],
  ])('--state naming %s is exit 2 without a call, the file untouched', async (_name, paths) => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await symlink(dir, join(dir, 'alias'));
    const { output, state } = paths(dir);
    await writeFile(output, 'yesterday\n');
    const result = await exportFrom(api, ['-o', output, '--state', state]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/name the same file/);
    expect(api.calls).toHaveLength(0);
    expect(await readFile(output, 'utf8')).toBe('yesterday\n');
  });

  it('--state that is a hard link to the output is exit 2 as well', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    await writeFile(join(dir, 'out.txt'), 'yesterday\n');
    await link(join(dir, 'out.txt'), join(dir, 'state'));
    const result = await exportFrom(api, ['-o', join(dir, 'out.txt'), '--state', join(dir, 'state')]);
    expect([result.code, api.calls.length]).toEqual([2, 0]);
    expect(result.stderr).toMatch(/name the same file/);
    expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe('yesterday\n');
  });
});

/** An export that writes a few pages and then waits on a slow call until it is signalled. */
async function slowExport(
  api: FakeApi,
  args: readonly string[],
): Promise<{ child: ReturnType<typeof spawn>; exited: Promise<number | null>; stderr: () => string }> {
  const dir = await tempDir();
  const child = spawn(process.execPath, [BIN, 'export', '--base-url', api.url, ...args], {
    env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  while (api.calls.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
  return { child, exited, stderr: () => stderr };
}

// Signals are sent to a child only on POSIX.
describe.runIf(onPosix)('two runs on one output', () => {
  it('the second is refused with exit 1 before any call, and the first completes its own FILE.partial and lock', async () => {
    const api = await fake(STALLING_LIST);
    const dir = await tempDir();
    const file = join(dir, 'out.txt');
    const first = await slowExport(api, ['-o', file]);
    const calls = api.calls.length;
    const second = await exportFrom(api, ['-o', file]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `Another run \\(pid ${first.child.pid} on .*\\) is writing to ${file}; ${file}\\.partial\\.lock is its lock\\. Let it finish, or give this run another --output\\.`,
      ),
    );
    expect(api.calls.length).toBe(calls);
    expect((await readdir(dir)).sort()).toEqual(['out.txt.partial', 'out.txt.partial.lock']);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    const kept = await readFile(`${file}.partial`, 'utf8');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toBe(lines(allOpenids(api.followers).slice(0, kept.split('\n').length - 1)));
    expect(await readdir(dir)).toEqual(['out.txt.partial']);
  });
});

// Devices, FIFOs and /dev/stdout are POSIX's.
describe.runIf(onPosix)('an output that is not a regular file', () => {
  /**
   * A character device of the test's own (the null device, made with mknod as root), so that a
   * broken build replaces that one, not the machine's /dev/null; without root /dev/null itself,
   * which a user cannot replace.
   */
  async function nullDevice(dir: string): Promise<string> {
    const own = join(dir, 'null');
    return (await runProcess('mknod', ['-m', '666', own, 'c', '1', '3'], {})).code === 0 ? own : '/dev/null';
  }

  it('a character device stays a device: written straight through, no .partial, no rename', async () => {
    const api = await fake({ followers: 23_000 });
    const device = await nullDevice(await tempDir());
    const before = await stat(device);
    expect(before.isCharacterDevice()).toBe(true);
    const result = await exportFrom(api, ['-f', 'csv', '-o', device]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const after = await stat(device);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.ino).toBe(before.ino);
    await expect(lstat(`${device}.partial`)).rejects.toThrow();
  });

  it('/dev/stdout writes to stdout and stays a link', async () => {
    const api = await fake({ followers: 23_000 });
    const target = await readlink('/dev/stdout');
    try {
      const result = await exportFrom(api, ['-f', 'ndjson', '-o', '/dev/stdout']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toBe(ndjsonLines(allOpenids(api.followers)));
      expect(await readlink('/dev/stdout')).toBe(target);
      await expect(lstat('/dev/stdout.partial')).rejects.toThrow();
    } finally {
      // A broken build would have replaced the machine's /dev/stdout: put the link back.
      if (!(await lstat('/dev/stdout')).isSymbolicLink()) {
        await rm('/dev/stdout', { force: true });
        await symlink(target, '/dev/stdout');
      }
      await rm('/dev/stdout.partial', { force: true });
    }
  });

  it('a FIFO stays a FIFO and its reader gets the whole export', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    expect((await runProcess('mkfifo', [fifo], {})).code).toBe(0);
    const reader = spawn('cat', [fifo]);
    const read: Buffer[] = [];
    reader.stdout.on('data', (chunk: Buffer) => read.push(chunk));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const result = await exportFrom(api, ['-f', 'csv', '-o', fifo]);
    await readerDone;
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(Buffer.concat(read).toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect(await readdir(dir)).toEqual(['pipe']);
  });

  it('a FIFO whose reader goes away after the first page: exit 1, saying so and naming the cursor', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    expect((await runProcess('mkfifo', [fifo], {})).code).toBe(0);
    const firstPage = lines(allOpenids(api.followers).slice(0, 10_000));
    const reader = spawn('head', ['-c', String(firstPage.length), fifo]);
    const read: Buffer[] = [];
    reader.stdout.on('data', (chunk: Buffer) => read.push(chunk));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const result = await exportFrom(api, ['-o', fifo]);
    await readerDone;
    expect(Buffer.concat(read).toString()).toBe(firstPage);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^wx-followers: The reader of .*pipe went away\.\n/);
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(9_999));
  });

  it('a FIFO with no reader: says it waits for one, and Ctrl-C stops the wait', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    expect((await runProcess('mkfifo', [fifo], {})).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'export', '--base-url', api.url, '-o', fifo], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    while (!stderr.includes('waiting for one')) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stderr).toBe(`wx-followers: ${fifo} is a named pipe with no reader yet: waiting for one (Ctrl-C stops).\n`);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/Interrupted \(SIGINT\)/);
    expect(api.calls).toHaveLength(0);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('with --state is exit 2: a state continues a file', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const result = await exportFrom(api, ['-o', await nullDevice(dir), '--state', join(dir, 'state')]);
    expect([result.code, api.calls.length]).toEqual([2, 0]);
    expect(result.stderr).toMatch(/not a regular file/);
  });
});

describe.runIf(onPosix)('-o naming a descriptor (/dev/fd/N)', () => {
  /** The CLI with stdio 0-2 as pipes and `extra` at descriptor 7 (3 to 6 left closed, for Node to take). */
  async function withDescriptor7(api: FakeApi, output: string, extra: number | 'ignore'): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [BIN, 'export', '--base-url', api.url, '--limit', '3', '-o', output], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      stdio: ['pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', extra],
    });
    child.stdin?.end();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
    return { code, stderr };
  }

  it.runIf(onLinux)("a descriptor the shell did not open is exit 2 before any call: not open, or one of Node's own", async () => {
    const api = await fake({ followers: 10 });
    // Node takes 3 to 21 or so for its event loop and thread pool; 200 is free.
    const outputs = [...Array.from({ length: 22 }, (_, index) => `/dev/fd/${index + 3}`), '/proc/self/fd/7', '/dev/fd/200'];
    for (const output of outputs) {
      const result = await withDescriptor7(api, output, 'ignore');
      const fd = output.split('/').at(-1);
      expect([result.code, result.stderr], output).toEqual([
        2,
        expect.stringMatching(new RegExp(`^wx-followers: --output ${output} names descriptor ${fd}, which `)),
      ]);
      expect(result.stderr, output).toMatch(new RegExp(`A forgotten ${fd}>FILE\\?`));
    }
    expect(api.calls).toEqual([]);
  });

  it('stderr (/dev/stderr, /dev/fd/2) is exit 2 before any call: the messages and the rows would write over each other', async () => {
    const api = await fake({ followers: 10 });
    for (const output of ['/dev/stderr', '/dev/fd/2']) {
      const result = await withDescriptor7(api, output, 'ignore');
      expect([result.code, result.stderr], output).toEqual([
        2,
        expect.stringMatching(new RegExp(`^wx-followers: --output ${output} is stderr`)),
      ]);
    }
    expect(api.calls).toEqual([]);
  });

  it('a file or a pipe the shell opened at descriptor 7 gets the export', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    for (const output of ['/dev/fd/7', '/proc/self/fd/7'].filter((name) => onLinux || name.startsWith('/dev/'))) {
      const file = join(dir, `${output.replaceAll('/', '_')}.txt`);
      const handle = await open(file, 'w');
      try {
        const result = await withDescriptor7(api, output, handle.fd);
        expect([result.code, result.stderr], output).toEqual([0, expect.stringMatching(/stopped at --limit 3/)]);
      } finally {
        await handle.close();
      }
      expect(await readFile(file, 'utf8'), output).toBe(lines(allOpenids(api.followers).slice(0, 3)));
    }
    // A pipe whose reading end is another process's (`7> >(gzip > x)`), not Node's own: Node's
    // own stdio 'pipe' is a socket, so the shell makes this one.
    const piped = await runProcess(
      'bash',
      ['-c', '"$0" "$1" export --base-url "$2" --limit 3 -o /dev/fd/7 7>&1 | cat', process.execPath, BIN, api.url],
      { env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }) },
    );
    expect([piped.code, piped.stdout.toString()]).toEqual([0, lines(allOpenids(api.followers).slice(0, 3))]);
  });
});

// Windows lets only administrators, or Developer Mode, make the symlinks these tests plant.
describe.runIf(onPosix)('no link followed where the tool creates or truncates', () => {
  async function planted(kind: 'symlink' | 'hard link', at: string, victim: string): Promise<void> {
    await writeFile(victim, 'precious\n');
    if (kind === 'symlink') await symlink(victim, at);
    else await link(victim, at);
  }

  it.each([
    ['symlink', []],
    ['hard link', []],
    ['symlink', ['--resume', 'oAnyCursor']],
    ['hard link', ['--resume', 'oAnyCursor']],
  ] as const)('a %s at FILE.partial (%j) is refused with exit 2, nothing written through it', async (kind, extra) => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const victim = join(dir, 'victim.txt');
    const file = join(dir, 'out.txt');
    await planted(kind, `${file}.partial`, victim);
    const result = await exportFrom(api, ['--limit', '3', '-o', file, ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(kind === 'symlink' ? /is a symbolic link/ : /has another hard link/);
    expect(api.calls).toHaveLength(0);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    await expect(lstat(file)).rejects.toThrow();
  });

  it('a symlink at the state file is refused with exit 2, its target untouched', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const state = join(dir, 'state');
    await planted('symlink', state, join(dir, 'victim.txt'));
    const result = await exportFrom(api, ['-o', join(dir, 'out.txt'), '--state', state]);
    expect([result.code, api.calls.length]).toEqual([2, 0]);
    expect(result.stderr).toMatch(/is a symbolic link/);
    expect(await readFile(join(dir, 'victim.txt'), 'utf8')).toBe('precious\n');
    expect((await lstat(state)).isSymbolicLink()).toBe(true);
  });

  it.each([
    ['a hard link at the state file', 'state'],
    ['a symlink at the lock', 'state.lock'],
    ['a hard link at the lock', 'state.lock'],
  ])('%s is replaced, never written through', async (name, at) => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const victim = join(dir, 'victim.txt');
    await planted(name.includes('symlink') ? 'symlink' : 'hard link', join(dir, at), victim);
    if (at === 'state')
      await writeFile(
        victim,
        `${JSON.stringify({ version: 1, output: join(dir, 'out.txt'), format: 'text', cursor: undefined, written: 0, outputBytes: 0, startedAt: 'x', updatedAt: 'x', done: true })}\n`,
      );
    const before = await readFile(victim, 'utf8');
    const result = await exportFrom(api, ['-o', join(dir, 'out.txt'), '--state', join(dir, 'state')]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe(lines(allOpenids(api.followers)));
    expect(await readFile(victim, 'utf8')).toBe(before);
  });

  it.each(['symlink', 'hard link'] as const)("a %s at the state's temp file is replaced, never written through", async (kind) => {
    const dir = await tempDir();
    const state = join(dir, 'state');
    const victim = join(dir, 'victim.txt');
    await planted(kind, `${state}.tmp-${process.pid}`, victim);
    const checkpoint = await openCheckpoint(state, join(dir, 'out.txt'), {
      format: undefined,
      defaultFormat: 'text',
      list: 'follower list',
      withInfo: false,
      account: { appid: 'wx1234567890abcdef' },
    });
    await checkpoint.record('oCursor', 1, 10, 1);
    await checkpoint.release();
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ cursor: 'oCursor', written: 1 });
    expect((await lstat(state)).isSymbolicLink()).toBe(false);
  });
});

describe('--resume into a file', () => {
  it('refuses a cursor that is not the last record of a --limit run, naming the one it ends with', async () => {
    const api = await fake({ followers: 23_000 });
    const dir = await tempDir();
    const file = join(dir, 'd.csv');
    expect((await exportFrom(api, ['-f', 'csv', '-o', file, '--limit', '20000'])).code).toBe(0);
    const before = await readFile(file);
    const calls = api.calls.length;
    const result = await exportFrom(api, ['-f', 'csv', '-o', file, '--resume', api.followers.at(9_999)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`ends with OpenID ${api.followers.at(19_999)}, not ${api.followers.at(9_999)}`));
    expect(resumeCursor(result.stderr)).toBe(api.followers.at(19_999));
    expect(api.calls.length).toBe(calls);
    expect((await readFile(file)).equals(before)).toBe(true);
    await expect(lstat(`${file}.partial`)).rejects.toThrow();
  });

  it('refuses another format, the file untouched', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const file = join(dir, 'm.out');
    const first = await exportFrom(api, ['-f', 'csv', '-o', file, '--limit', '3']);
    const before = await readFile(file, 'utf8');
    const calls = api.calls.length;
    const result = await exportFrom(api, ['-f', 'ndjson', '-o', file, '--resume', resumeCursor(first.stderr)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a csv export, and this run writes a ndjson export/);
    expect(api.calls.length).toBe(calls);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('checks FILE.partial first: a wrong cursor is refused, the right one completes it', async () => {
    const { api, failing } = await flakyApi();
    const dir = await tempDir();
    const file = join(dir, 'tr.txt');
    const failed = await exportFrom(api, ['-o', file, '--retries', '0']);
    expect(failed.code).toBe(5);
    failing.now = false;
    const before = await readFile(`${file}.partial`, 'utf8');
    const wrong = await exportFrom(api, ['-o', file, '--resume', api.followers.at(9_999)]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`${file}.partial ends with OpenID ${api.followers.at(19_999)}`);
    expect(await readFile(`${file}.partial`, 'utf8')).toBe(before);
    const right = await exportFrom(api, ['-o', file, '--resume', resumeCursor(failed.stderr)]);
    expect(right.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(lines(allOpenids(api.followers)));
  });

  it('reads a CSV with details to its last record: a multi-line remark, a guarded OpenID', async () => {
    // The 4th follower's remark is two lines; an OpenID starting with '-' is written '-... by the formula guard.
    const openids = [
      'oAAAAAAAAAAAAAAAAAAAAAAAAAA1',
      'oBBBBBBBBBBBBBBBBBBBBBBBBBB2',
      'oCCCCCCCCCCCCCCCCCCCCCCCCCC3',
      '-DDDDDDDDDDDDDDDDDDDDDDDDDD4',
      'oEEEEEEEEEEEEEEEEEEEEEEEEEE5',
    ];
    const api = await fake({ followers: listedFollowers(openids) });
    const dir = await tempDir();
    const file = join(dir, 'details.csv');
    const first = await exportFrom(api, ['--with-info', '-o', file, '--limit', '4']);
    expect(first.code).toBe(0);
    expect(await readFile(file, 'utf8')).toContain(`'-DDDDDDDDDDDDDDDDDDDDDDDDDD4,`);
    const wrong = await exportFrom(api, ['--with-info', '-o', file, '--resume', openids[2] as string]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`ends with OpenID ${openids[3]}`);
    const plain = await exportFrom(api, ['-f', 'csv', '-o', file, `--resume=${openids[3]}`]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/is a csv export with details, and this run writes a csv export/);
    const right = await exportFrom(api, ['--with-info', '-o', file, `--resume=${openids[3]}`]);
    expect([right.code, right.stderr]).toEqual([0, '']);
    const rows = (await readFile(file, 'utf8')).split('\n').filter((line) => /^'?[-o][A-Z]{26}\d,/.test(line));
    expect(rows.map((row) => row.split(',')[0])).toEqual([...openids.slice(0, 3), `'${openids[3]}`, openids[4]]);
  });

  it('finds the last record of a large CSV with details whose last remark spans lines that look like records', async () => {
    const dir = await tempDir();
    const file = join(dir, 'details.csv');
    const header = 'openid,subscribe,subscribe_time,unionid,language,remark,groupid,tagid_list,subscribe_scene,qr_scene,qr_scene_str\n';
    const rows = Array.from({ length: 2_000 }, (_, index) => `oRow${String(index).padStart(24, '0')},1,,,en,,0,,,0,\n`).join('');
    // A remark of 100 KiB whose lines look like rows: read from its middle, it would end on a cursor it does not hold.
    const remark = Array.from({ length: 3_000 }, (_, index) => `oFake${String(index).padStart(23, '0')},1,,,en`).join('\n');
    await writeFile(file, `${header}${rows}'-LastLastLastLastLastLastLast,1,,,en,"${remark}",0,,,0,\n`);
    expect(await readFileEnd(file)).toEqual({
      kind: { format: 'csv', withInfo: true },
      lastOpenid: '-LastLastLastLastLastLastLast',
      crlf: false,
    });
  });

  it.each([
    ['text', (openids: string[]) => lines(openids).replaceAll('\n', '\r\n')],
    ['csv', (openids: string[]) => `openid\r\n${lines(openids).replaceAll('\n', '\r\n')}`],
    // Only the last line saved again on Windows (a line cut back in an editor): its ending is the one the next row follows.
    ['text', (openids: string[]) => `${lines(openids.slice(0, -1))}${openids.at(-1)}\r\n`],
  ])('refuses a %s file with Windows line endings (CRLF), the file untouched, before any call', async (format, text) => {
    const api = await fake({ followers: 30 });
    const dir = await tempDir();
    const file = join(dir, `crlf.${format}`);
    const kept = allOpenids(api.followers).slice(0, 10);
    await writeFile(file, text(kept));
    const result = await exportFrom(api, ['-f', format, '-o', file, '--resume', kept.at(-1) as string]);
    expect([result.code, result.stderr]).toEqual([
      2,
      `wx-followers: ${file} has Windows line endings (\\r\\n: an editor saved it so?), and an export writes \\n ones: continuing it would mix the two. It is left as it is: convert it back to \\n line endings (dos2unix, or the editor's LF setting), then run again with --resume ${kept.at(-1)}; or run without --resume.\n`,
    ]);
    expect(api.calls).toHaveLength(0);
    expect(await readFile(file, 'utf8')).toBe(text(kept));
    // Converted back, it goes on.
    await writeFile(file, text(kept).replaceAll('\r\n', '\n'));
    const converted = await exportFrom(api, ['-f', format, '-o', file, '--resume', kept.at(-1) as string]);
    expect([converted.code, converted.stderr]).toEqual([0, '']);
    expect(await readFile(file, 'utf8')).toBe(`${format === 'csv' ? 'openid\n' : ''}${lines(allOpenids(api.followers))}`);
  });

  it('refuses when there is no file to continue', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const result = await exportFrom(api, ['-o', join(dir, 'new.txt'), '--resume', 'oAnyCursor']);
    expect([result.code, api.calls.length]).toEqual([2, 0]);
    expect(result.stderr).toMatch(/neither is there/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('a FILE.partial kept by a failed run', () => {
  // The printed command is for a POSIX shell (mv), run here through sh.
  it.runIf(onPosix)(
    'is moved to FILE.partial.prev with a word, the nightly run completes, and the printed command continues the old one',
    async () => {
      const { api, failing } = await flakyApi();
      const dir = await tempDir();
      const file = join(dir, 'followers.csv');
      const nightly = ['-f', 'csv', '-o', file, '--retries', '0'];
      const night1 = await exportFrom(api, nightly);
      expect(night1.code).toBe(5);
      const kept = await readFile(`${file}.partial`, 'utf8');
      expect(kept).toBe(`openid\n${lines(allOpenids(api.followers).slice(0, 20_000))}`);

      failing.now = false;
      const night2 = await exportFrom(api, nightly);
      expect(night2.code).toBe(0);
      expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
      expect(await readFile(`${file}.partial.prev`, 'utf8')).toBe(kept);
      const command = `mv ${file}.partial.prev ${file}.partial && wx-followers export -f csv -o ${file} --resume ${api.followers.at(19_999)}`;
      expect(night2.stderr).toBe(
        `wx-followers: an earlier run left ${file}.partial; it is moved to ${file}.partial.prev, and this run starts afresh. To continue it instead: ${command}\n`,
      );

      // What the message says, run as it says: the old partial completes.
      const [mv, cli] = command.split(' && ');
      expect((await runProcess('sh', ['-c', mv as string], {})).code).toBe(0);
      const continued = await exportFrom(api, (cli as string).split(' ').slice(2));
      expect([continued.code, continued.stderr]).toEqual([0, '']);
      expect(await readFile(file, 'utf8')).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    },
  );

  it('on a third failed night, the older FILE.partial.prev is replaced, and stderr says so', async () => {
    const { api } = await flakyApi();
    const dir = await tempDir();
    const file = join(dir, 'followers.txt');
    expect((await exportFrom(api, ['-o', file, '--retries', '0'])).code).toBe(5);
    const second = await exportFrom(api, ['-o', file, '--retries', '0']);
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/it is moved to .*followers\.txt\.partial\.prev, and this run starts afresh/);
    const third = await exportFrom(api, ['-o', file, '--retries', '0']);
    expect(third.code).toBe(5);
    expect(third.stderr).toContain(`it is moved to ${file}.partial.prev (replacing the older ${file}.partial.prev)`);
    expect((await readdir(dir)).sort()).toEqual(['followers.txt.partial', 'followers.txt.partial.prev']);
  });
});

// TMPDIR is what os.tmpdir() reads on POSIX; Windows reads TEMP.
describe.runIf(onPosix)('the test suite', () => {
  it('keeps its temporary files in a root of its own, which globalSetup removes', async () => {
    const root = process.env['WX_FOLLOWERS_TEST_ROOT'];
    expect(root).toBeDefined();
    expect(relative(root as string, tmpdir()).startsWith('..')).toBe(false);
    const dir = await tempDir();
    expect(relative(root as string, dir).startsWith('..')).toBe(false);
    expect(cleanEnv(dir)['TMPDIR']).toBe(tmpdir());
  });
});

describe('a folder planted where the tool keeps a file of its own', () => {
  it.each([
    ['the output lock', (dir: string) => join(dir, 'out.txt.partial.lock'), [] as string[]],
    ["the state's lock", (dir: string) => join(dir, 'st.json.lock'), ['--state', 'st.json']],
    ['where an earlier FILE.partial is moved', (dir: string) => join(dir, 'out.txt.partial.prev'), [] as string[]],
  ])('at %s is exit 2 before any call, naming it, and left as it is', async (_where, plantedAt, extra) => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const planted = plantedAt(dir);
    await mkdir(planted);
    const result = await runProcess(process.execPath, [BIN, 'export', '--base-url', api.url, '-o', 'out.txt', ...extra], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
    });
    expect([result.code, result.stderr]).toEqual([2, expect.stringContaining(`${relative(dir, planted)} is a folder, where`)]);
    expect((await stat(planted)).isDirectory()).toBe(true);
    expect(api.calls).toEqual([]);
  });
});
