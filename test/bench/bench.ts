/**
 * `npm run bench`: the tool against the floor, side by side in one run, on loopback. Ratios are
 * what counts; absolute times on shared machines are noise. Not part of `npm test`.
 */
import { execFile, spawn } from 'node:child_process';
import { access, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { cpus, devNull, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_TOKEN, startFakeApi, type FakeApi } from '../fake-api/server.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const BIN = here('../../../bin/wx-followers.cjs');
const FLOOR = here('./floor.js');
const SDK = here('./sdk.js');
const BARE_START = here('./bare-start.cjs');
/** Installed for the bench only, never a dependency: node-webot's SDK and the other Node majors. */
const BENCH_DEPS = process.env['BENCH_DEPS'] ?? here('../../bench-deps');
const SDK_PACKAGE = 'wechat-api@1.35.1';
const RUSAGE = here('./rusage.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const STARTUP_RUNS = Number(process.env['BENCH_STARTUP_RUNS'] ?? 15);
const BIG = Number(process.env['BENCH_BIG'] ?? 10_000_000);
const DETAILS_RUNS = Number(process.env['BENCH_DETAILS_RUNS'] ?? 3);
const MEMORY_RUNS = Number(process.env['BENCH_MEMORY_RUNS'] ?? 3);
const DIFF_RUNS = Number(process.env['BENCH_DIFF_RUNS'] ?? 3);
const DIFF_SIZE = Number(process.env['BENCH_DIFF_SIZE'] ?? 5_000_000);
/** Which parts to run: all by default; e.g. BENCH_CASES=details,diff. */
const CASES = new Set((process.env['BENCH_CASES'] ?? 'export,memory,startup,details,diff').split(','));
/** The Node majors the start-up is also reported on, beside the one running the bench. */
const OTHER_NODES = (process.env['BENCH_NODES'] ?? '22,24').split(',').filter((major) => major !== '');
const scratch = await mkdtemp(join(tmpdir(), 'wx-bench-'));

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
}

/**
 * One child process, stdout to /dev/null, stderr a pipe (not a TTY); its own rusage from the preload.
 * /dev/null opened write-only, as a shell's `> /dev/null`: stdio 'ignore' hands a child /dev/null
 * open for reading too, which export takes for a closed stdout (`>&-`) and refuses.
 */
async function measure(args: readonly string[], env: Record<string, string> = {}, node = process.execPath): Promise<Sample> {
  const rusageFile = join(scratch, `rusage-${process.hrtime.bigint()}.json`);
  const stdout = await open(devNull, 'w');
  const started = performance.now();
  const child = spawn(node, ['--import', RUSAGE, ...args], {
    stdio: ['ignore', stdout.fd, 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', HOME: scratch, WX_FOLLOWERS_CONFIG_DIR: scratch, WX_BENCH_RUSAGE: rusageFile, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - started;
  await stdout.close();
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${stderr}`);
  const usage = JSON.parse(await readFile(rusageFile, 'utf8')) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
  await rm(rusageFile);
  return { wallMs, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, rssMiB: usage.maxRSS / 1024 };
}

/** Wall time of a command that is not Node (the shell's sort and comm). */
async function wallTime(command: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
  return performance.now() - started;
}

/** Random 28-character OpenIDs starting with 'o', the same for the same index in every run. */
async function writeOpenids(file: string, from: number, to: number): Promise<void> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const handle = await open(file, 'w');
  let text = '';
  for (let index = from; index < to; index += 1) {
    // mulberry32, seeded by the index.
    let state = index * 0x9e3779b9;
    let openid = 'o';
    for (let character = 0; character < 27; character += 1) {
      state = (state + 0x6d2b79f5) | 0;
      let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
      mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
      openid += alphabet[((mixed ^ (mixed >>> 14)) >>> 0) & 63];
    }
    text += `${openid}\n`;
    if (text.length > 1 << 20) {
      await handle.write(text);
      text = '';
    }
  }
  await handle.write(text);
  await handle.close();
}

/** `npm install` of a package into a folder of the bench's own (not the project's node_modules), once. */
async function benchInstall(folder: string, spec: string, probe: string): Promise<string | undefined> {
  const dir = join(BENCH_DEPS, folder);
  const target = join(dir, 'node_modules', probe);
  const present = async (): Promise<boolean> =>
    access(target).then(
      () => true,
      () => false,
    );
  if (!(await present())) {
    process.stderr.write(`bench: npm install --no-save ${spec} into ${dir}\n`);
    await new Promise<void>((resolve) =>
      execFile('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, spec], () => resolve()),
    );
  }
  return (await present()) ? target : undefined;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

interface Row {
  what: string;
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
  ratio?: number;
  target?: string;
  ok?: boolean;
}

function summarize(what: string, samples: Sample[]): Row {
  return {
    what,
    wallMs: median(samples.map((sample) => sample.wallMs)),
    cpuMs: median(samples.map((sample) => sample.cpuMs)),
    rssMiB: median(samples.map((sample) => sample.rssMiB)),
  };
}

const floorArgs = (api: FakeApi): string[] => [FLOOR, api.url, FAKE_TOKEN];
const exportArgs = (api: FakeApi, format: string): string[] => [BIN, 'export', '--base-url', api.url, '--format', format];
const tokenEnv = { WX_ACCESS_TOKEN: FAKE_TOKEN };
const rows: Row[] = [];
const compare = (row: Row, base: Row, limit: number, key: 'wallMs' | 'rssMiB', target: string): void => {
  row.ratio = row[key] / base[key];
  row.target = target;
  row.ok = row.ratio <= limit;
  rows.push(row);
};

process.stderr.write(
  `bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB\n`,
);

// Export wall time, 1M followers: floor and tool alternate, A B A B; the SDK loop in each round too.
if (CASES.has('export')) {
  const sdkDir = await benchInstall('sdk', SDK_PACKAGE, 'wechat-api/package.json');
  // The SDK's first call sends an empty next_openid, which the real API mostly takes as the start.
  const api = await startFakeApi({ followers: 1_000_000, cachePages: true, emptyCursorStarts: true });
  const sdkArgs = sdkDir === undefined ? undefined : [SDK, join(BENCH_DEPS, 'sdk'), api.url, FAKE_TOKEN];
  const formats = ['text', 'csv', 'ndjson'];
  process.stderr.write('bench: 1M followers, warm-up\n');
  await measure(floorArgs(api));
  for (const format of formats) await measure(exportArgs(api, format), tokenEnv);
  if (sdkArgs !== undefined) await measure(sdkArgs);
  const floor: Sample[] = [];
  const sdk: Sample[] = [];
  const tool = new Map<string, Sample[]>(formats.map((format) => [format, []]));
  for (let run = 0; run < RUNS; run += 1) {
    process.stderr.write(`bench: 1M followers, round ${run + 1} of ${RUNS}\n`);
    for (const format of formats) {
      floor.push(await measure(floorArgs(api)));
      tool.get(format)?.push(await measure(exportArgs(api, format), tokenEnv));
    }
    if (sdkArgs !== undefined) sdk.push(await measure(sdkArgs));
  }
  const floorRow = summarize('floor: undici request loop, 1M followers', floor);
  rows.push(floorRow);
  for (const format of formats) {
    compare(
      summarize(`export --format ${format}, 1M followers`, tool.get(format) ?? []),
      floorRow,
      1.1,
      'wallMs',
      '<= 1.10 x floor (wall)',
    );
  }
  if (sdkArgs === undefined) {
    rows.push({ what: `${SDK_PACKAGE} loop: not installed (npm install failed)`, wallMs: NaN, cpuMs: NaN, rssMiB: NaN });
  } else {
    const sdkRow = summarize(`${SDK_PACKAGE} getFollowers loop, text, 1M followers`, sdk);
    rows.push(sdkRow);
    compare(summarize('export --format text vs the SDK loop', tool.get('text') ?? []), sdkRow, 0.9, 'wallMs', '<= 0.9 x SDK loop (wall)');
  }
  const before = api.connections();
  await measure(exportArgs(api, 'text'), tokenEnv);
  const connections = api.connections() - before;
  rows.push({
    what: `TCP connections in one export: ${connections}`,
    wallMs: NaN,
    cpuMs: NaN,
    rssMiB: NaN,
    target: '1',
    ok: connections === 1,
  });
  await api.close();
}

// Memory: peak RSS at 1M and at 10M followers, where growth with the list would show (at 100k
// V8 has not yet grown its heap to its working size). Medians of MEMORY_RUNS.
if (CASES.has('memory')) {
  const sizes = [1_000_000, BIG];
  const results: { floor: Row; tool: Row }[] = [];
  for (const size of sizes) {
    const label = size.toLocaleString('en-US');
    process.stderr.write(`bench: memory at ${label}\n`);
    const api = await startFakeApi({ followers: size, cachePages: true });
    // The first walk renders the fake's page cache: not what is measured.
    await measure(floorArgs(api));
    const floor: Sample[] = [];
    const tool: Sample[] = [];
    for (let run = 0; run < MEMORY_RUNS; run += 1) {
      floor.push(await measure(floorArgs(api)));
      tool.push(await measure(exportArgs(api, 'text'), tokenEnv));
    }
    await api.close();
    results.push({ floor: summarize(`floor, ${label} followers`, floor), tool: summarize(`export, ${label} followers`, tool) });
  }
  const [small, big] = results;
  if (small !== undefined && big !== undefined) {
    rows.push(small.floor, big.floor);
    compare(small.tool, small.floor, Number.POSITIVE_INFINITY, 'rssMiB', '(the tool at 1M)');
    compare({ ...big.tool }, big.floor, 1.2, 'rssMiB', '<= 1.2 x floor at 10M (RSS)');
    compare(
      { ...big.tool, what: `export, ${BIG.toLocaleString('en-US')} vs itself at 1M` },
      small.tool,
      1.15,
      'rssMiB',
      '<= 1.15 x tool at 1M (RSS)',
    );
  }
}

// Start-up: what a cron line or a shell loop pays every time, on this Node and the other majors.
if (CASES.has('startup')) {
  const api = await startFakeApi({ followers: 1_000, cachePages: true });
  const nodes: string[] = [process.execPath];
  for (const major of OTHER_NODES) {
    const binary = await benchInstall(`node${major}`, `node@${major}`, 'node/bin/node');
    if (binary === undefined)
      rows.push({ what: `node@${major}: not installed (npm install failed)`, wallMs: NaN, cpuMs: NaN, rssMiB: NaN });
    else nodes.push(binary);
  }
  for (const node of nodes) {
    const version = await new Promise<string>((resolve) => execFile(node, ['--version'], (_error, stdout) => resolve(stdout.trim())));
    const cases: [string, string[], Record<string, string>][] = [
      ['node -e 0', ['-e', '0'], {}],
      ['wx-followers --version', [BIN, '--version'], {}],
      ['wx-followers --help', [BIN, '--help'], {}],
      ['export of 1,000 followers', exportArgs(api, 'text'), tokenEnv],
      ['bare commander + undici loop, 1,000 followers', [BARE_START, api.url, FAKE_TOKEN], {}],
    ];
    // The warm-up also fills Node's compile cache (22.1 and newer), as any earlier run would.
    for (const [, args, env] of cases) await measure(args, env, node);
    const samples = new Map<string, Sample[]>(cases.map(([name]) => [name, []]));
    process.stderr.write(`bench: start-up, node ${version}\n`);
    for (let run = 0; run < STARTUP_RUNS; run += 1) {
      for (const [name, args, env] of cases) samples.get(name)?.push(await measure(args, env, node));
    }
    const row = (name: string): Row => summarize(`${name} (node ${version})`, samples.get(name) ?? []);
    const base = row('node -e 0');
    rows.push(base);
    compare(row('wx-followers --version'), base, 1.3, 'wallMs', '<= 1.3 x node -e 0');
    compare(row('wx-followers --help'), base, 1.3, 'wallMs', '<= 1.3 x node -e 0');
    compare(row('export of 1,000 followers'), base, 2.5, 'wallMs', '<= 2.5 x node -e 0');
    compare(
      row('bare commander + undici loop, 1,000 followers'),
      base,
      Number.POSITIVE_INFINITY,
      'wallMs',
      '(the least with these libraries)',
    );
  }
  await api.close();
}

// Details: every call answered after 50 ms. The ideal keeps 8 details calls in flight across
// page boundaries and waits for one list call only, the first: the others are read ahead.
if (CASES.has('details')) {
  const latencyMs = 50;
  const concurrency = 8;
  const api = await startFakeApi({ followers: 100_000, latencyMs, cachePages: true });
  const args = [BIN, 'export', '--base-url', api.url, '--with-info', '--format', 'csv', '--concurrency', String(concurrency)];
  const samples: Sample[] = [];
  let ideal = 0;
  let counts = '';
  let connections = 0;
  process.stderr.write('bench: --with-info, 100k followers, 50 ms a call, warm-up\n');
  // Renders the fake's answers once: the fake is not what is measured.
  await measure(args, tokenEnv);
  for (let run = 0; run < DETAILS_RUNS; run += 1) {
    const before = api.calls.length;
    const connectionsBefore = api.connections();
    samples.push(await measure(args, tokenEnv));
    connections = Math.max(connections, api.connections() - connectionsBefore);
    const calls = api.calls.slice(before);
    const listCalls = calls.filter((call) => call.path === '/cgi-bin/user/get').length;
    const detailCalls = calls.filter((call) => call.path === '/cgi-bin/user/info/batchget').length;
    ideal = (detailCalls * latencyMs) / concurrency + latencyMs;
    counts = `${detailCalls} details calls / ${concurrency} + 1 list call (of ${listCalls})`;
  }
  rows.push({ what: `ideal: ${counts}, 50 ms each`, wallMs: ideal, cpuMs: NaN, rssMiB: NaN });
  const row = summarize(`export --with-info --format csv --concurrency ${concurrency}, 100k followers`, samples);
  row.ratio = row.wallMs / ideal;
  row.target = '<= 1.1 x ideal (wall)';
  row.ok = row.ratio <= 1.1;
  rows.push(row);
  rows.push({
    what: `TCP connections in one --with-info export: ${connections}`,
    wallMs: NaN,
    cpuMs: NaN,
    rssMiB: NaN,
    target: `<= ${concurrency}`,
    ok: connections <= concurrency,
  });
  await api.close();
}

// diff of two exports of 5M OpenIDs against sort and comm on the same two text files. The
// OpenIDs are random, as real ones look, so that neither file is sorted already.
if (CASES.has('diff')) {
  const size = DIFF_SIZE;
  const shift = Math.floor(size / 100);
  const oldFile = join(scratch, 'old.txt');
  const newFile = join(scratch, 'new.txt');
  process.stderr.write(`bench: diff, writing two exports of ${size.toLocaleString('en-US')} OpenIDs\n`);
  await writeOpenids(oldFile, 0, size);
  await writeOpenids(newFile, shift, size + shift);
  const toolArgs = [BIN, 'diff', oldFile, newFile];
  const commScript = `LC_ALL=C comm -3 <(sort '${oldFile}') <(sort '${newFile}') > /dev/null`;
  const tool: Sample[] = [];
  const comm: number[] = [];
  for (let run = 0; run < DIFF_RUNS; run += 1) {
    process.stderr.write(`bench: diff, round ${run + 1} of ${DIFF_RUNS}\n`);
    tool.push(await measure(toolArgs));
    comm.push(await wallTime('bash', ['-c', commScript]));
  }
  const commRow: Row = {
    what: `LC_ALL=C comm -3 <(sort old) <(sort new), ${size.toLocaleString('en-US')} each`,
    wallMs: median(comm),
    cpuMs: NaN,
    rssMiB: NaN,
  };
  rows.push(commRow);
  compare(
    summarize(`wx-followers diff old new, ${size.toLocaleString('en-US')} each`, tool),
    commRow,
    1,
    'wallMs',
    '<= 1 x sort + comm (wall)',
  );
  const peak = summarize('diff peak RSS', tool).rssMiB;
  rows.push({
    what: `diff peak RSS: ${peak.toFixed(0)} MiB`,
    wallMs: NaN,
    cpuMs: NaN,
    rssMiB: peak,
    target: '< 1024 MiB',
    ok: peak < 1024,
  });
}

await rm(scratch, { recursive: true, force: true });
const number = (value: number, digits = 0): string => (Number.isNaN(value) ? '' : value.toFixed(digits));
const lines = [
  `| what | wall ms | cpu ms | peak RSS MiB | ratio | target | |`,
  `| --- | ---: | ---: | ---: | ---: | --- | --- |`,
  ...rows.map(
    (row) =>
      `| ${row.what} | ${number(row.wallMs)} | ${number(row.cpuMs)} | ${number(row.rssMiB, 1)} | ${row.ratio === undefined ? '' : number(row.ratio, 2)} | ${row.target ?? ''} | ${row.ok === undefined ? '' : row.ok ? 'ok' : 'MISSED'} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(
  `\nmedians of ${RUNS} runs (1M), ${MEMORY_RUNS} runs (memory), ${STARTUP_RUNS} runs (start-up), ${DETAILS_RUNS} runs (--with-info) and ${DIFF_RUNS} runs (diff).\n`,
);
