import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/program.js';
import type { IOStreams } from '../src/console/streams.js';
import { allOpenids, everyNth, generatedFollowers } from './fake-api/followers.js';
import { FAKE_TOKEN, startFakeApi, type FakeApi, type FakeApiOptions } from './fake-api/server.js';
import { lines, tempDir } from './helpers/cli.js';

interface Captured {
  io: IOStreams;
  stdout: () => string;
  stderr: () => string;
}

/** IOStreams over buffers, with stderr posing as an 80-column terminal. */
function capture(env: NodeJS.ProcessEnv, stderrIsTTY: boolean): Captured {
  const stdout = new PassThrough();
  const stderr: PassThrough = Object.assign(new PassThrough(), {
    isTTY: stderrIsTTY,
    columns: 80,
    // What ora and cli-progress call on a tty.WriteStream, as the escape codes a terminal gets.
    cursorTo: (x: number) => stderr.write(`\x1b[${x + 1}G`),
    moveCursor: (dx: number, dy: number) => stderr.write(`\x1b[${dy}A\x1b[${dx}C`),
    clearLine: () => stderr.write('\x1b[2K'),
    clearScreenDown: () => stderr.write('\x1b[0J'),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const io: IOStreams = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY,
    env,
    stdoutClosed: () => false,
    onInterrupt: () => () => undefined,
  };
  return { io, stdout: () => Buffer.concat(out).toString(), stderr: () => Buffer.concat(err).toString() };
}

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function run(
  extraArgs: string[],
  extraEnv: NodeJS.ProcessEnv,
  stderrIsTTY: boolean,
  fakeOptions: FakeApiOptions = { followers: 23_000 },
): Promise<[number, Captured]> {
  api = await startFakeApi(fakeOptions);
  const env = { WX_ACCESS_TOKEN: FAKE_TOKEN, WX_FOLLOWERS_CONFIG_DIR: await tempDir(), ...extraEnv };
  const captured = capture(env, stderrIsTTY);
  const code = await main(['node', 'wx-followers', 'export', '--base-url', api.url, ...extraArgs], captured.io);
  return [code, captured];
}

describe('progress', () => {
  it('shows a bar against the total and a summary on a TTY stderr, and leaves stdout exact', async () => {
    const [code, captured] = await run([], {}, true);
    expect(code).toBe(0);
    expect(captured.stdout()).toBe(lines(allOpenids(api!.followers)));
    expect(captured.stderr()).toMatch(/\/23000 OpenIDs/);
    expect(captured.stderr()).toMatch(/Exported 23,000 OpenIDs in \d+\.\d s\.\n$/);
  });

  it('shows nothing with --no-progress or --quiet, nor when stderr is not a TTY', async () => {
    for (const [args, tty] of [
      [['--no-progress'], true],
      [['--quiet'], true],
      [[], false],
    ] as const) {
      const [code, captured] = await run([...args], {}, tty);
      expect(code).toBe(0);
      expect(captured.stderr()).toBe('');
      await api?.close();
      api = undefined;
    }
  });

  it('says on the bar that it waits for the next minute on 45011', async () => {
    const [code, captured] = await run([], { WX_FOLLOWERS_DELAY_SCALE: '0.001' }, true, {
      followers: 23_000,
      fault: (call) => (call.index === 2 ? { kind: 'errcode', errcode: 45011 } : undefined),
    });
    expect(code).toBe(0);
    expect(captured.stdout()).toBe(lines(allOpenids(api!.followers)));
    expect(captured.stderr()).toMatch(/waiting for the next minute \(per-minute limit, errcode 45011\)/);
  });

  describe('of a tag, whose pages tell no total', () => {
    const followers = generatedFollowers(23_000);
    const tagged: FakeApiOptions = { followers, pageSize: 5_000, tags: [{ id: 134, name: '北京', members: everyNth(followers, 2) }] };
    const tagsCalls = (): number => api?.calls.filter((call) => call.path === '/cgi-bin/tags/get').length ?? 0;

    it("shows the bar against the tag's size from the tag list", async () => {
      const [code, captured] = await run(['--tag', '134'], {}, true, tagged);
      expect(code).toBe(0);
      expect(captured.stdout()).toBe(lines(allOpenids(everyNth(followers, 2))));
      expect(captured.stderr()).toMatch(/\/11500 OpenIDs/);
      expect(tagsCalls()).toBe(1);
    });

    it('counts without a total when the tag list cannot be had', async () => {
      const [code, captured] = await run(['--tag', '134'], {}, true, {
        ...tagged,
        fault: (call) => (call.path === '/cgi-bin/tags/get' ? { kind: 'errcode', errcode: 48001 } : undefined),
      });
      expect(code).toBe(0);
      expect(captured.stderr()).toMatch(/[^\d/]11500 OpenIDs \| [\d,]+\/s/);
      expect(captured.stderr()).not.toMatch(/\/\d+ OpenIDs/);
    });

    it('spends no call on the tag list when no one sees the bar', async () => {
      const [code] = await run(['--tag', '134'], {}, false, tagged);
      expect(code).toBe(0);
      expect(tagsCalls()).toBe(0);
    });
  });
});

describe('the quota estimate on a terminal', () => {
  const quotaCalls = (): number => api!.calls.filter((call) => call.path === '/cgi-bin/openapi/quota/get').length;

  it("says after the first page how many more calls the rest takes and what is left of today's quota", async () => {
    const [code, captured] = await run([], {}, true, { followers: 5_000, pageSize: 1_000 });
    expect(code).toBe(0);
    expect(captured.stdout()).toBe(lines(allOpenids(api!.followers)));
    // 4 pages and the empty answer that ends the list; one or two calls of 500 made already.
    expect(captured.stderr()).toMatch(
      /wx-followers: 5 more calls of user\/get, 49[89] left today \(resets 00:00 China Standard Time, in \d+ (h \d+ min|minutes?)\)\.\n/,
    );
    expect(quotaCalls()).toBe(1);
  });

  it("says when today's quota will not cover the rest, and that the run will stop with exit 4", async () => {
    const [code, captured] = await run([], {}, true, { followers: 5_000, pageSize: 1_000, dailyQuota: 3 });
    expect(code).toBe(4);
    expect(captured.stderr()).toMatch(
      /today's quota of user\/get will not cover the rest: 5 more calls of user\/get, [01] left today .*The run will stop with exit 4 when it is spent; with --state the same command goes on after the reset\./,
    );
  });

  it('counts the details calls too with --with-info, and names what --max-calls leaves, its own call not counted', async () => {
    const [code, captured] = await run(['--with-info', '--max-calls', '4'], {}, true, { followers: 450, pageSize: 100 });
    expect(code).toBe(0);
    expect(captured.stderr()).toMatch(/5 more calls of user\/get, \d+ left today; 4 more calls of user\/info\/batchget, [\d,]+ left today/);
    expect(captured.stderr()).toMatch(/--max-calls 4 stops it after [01] more call/);
    // The quota look-ups are not among the 4: the run does the same work as without a terminal.
    expect(api!.calls.filter((call) => call.path !== '/cgi-bin/openapi/quota/get')).toHaveLength(4);
    expect(quotaCalls()).toBe(2);
  });

  it('asks nothing when stderr is not a terminal, and says nothing when quota/get is refused', async () => {
    const [code] = await run([], {}, false, { followers: 5_000, pageSize: 1_000 });
    expect(code).toBe(0);
    expect(quotaCalls()).toBe(0);
    const [refusedCode, captured] = await run([], {}, true, {
      followers: 5_000,
      pageSize: 1_000,
      fault: (call) => (call.path === '/cgi-bin/openapi/quota/get' ? { kind: 'errcode', errcode: 48001 } : undefined),
    });
    expect(refusedCode).toBe(0);
    expect(captured.stderr()).not.toMatch(/more call/);
    expect(captured.stdout()).toBe(lines(allOpenids(api!.followers)));
  });
});
