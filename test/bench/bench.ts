/**
 * `npm run bench`: the tool against its floors, side by side in one run, on loopback. Ratios are
 * what counts; absolute times on shared machines are noise. Not part of `npm test`. What each case
 * measures, its floor and its target: docs/performance.md.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFollowers, type FollowerList } from '../fake-api/followers.js';
import { FAKE_APPID, FAKE_TOKEN, startFakeApi, type FakeApi } from '../fake-api/server.js';
import {
  type Bench,
  benchInstall,
  compare,
  exists,
  median,
  measure,
  note,
  type Row,
  type Sample,
  stdoutHash,
  summarize,
  table,
  wallTime,
} from './measure.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const BIN = here('../../../bin/wx-followers.cjs');
const FLOOR = here('./floor.js');
const SDK = here('./sdk.js');
const ORDINARY = here('./ordinary.js');
const SDK_PACKAGE = 'wechat-api@1.35.1';
const knob = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const RUNS = knob('BENCH_RUNS', 5);
const LATENCY_RUNS = knob('BENCH_LATENCY_RUNS', 3);
const STARTUP_RUNS = knob('BENCH_STARTUP_RUNS', 15);
const BIG = knob('BENCH_BIG', 10_000_000);
const DETAILS_RUNS = knob('BENCH_DETAILS_RUNS', 3);
const MEMORY_RUNS = knob('BENCH_MEMORY_RUNS', 3);
const DIFF_RUNS = knob('BENCH_DIFF_RUNS', 3);
const DIFF_SIZE = knob('BENCH_DIFF_SIZE', 5_000_000);
const SYNC_RUNS = knob('BENCH_SYNC_RUNS', 3);
/** Which parts to run: all by default; e.g. BENCH_CASES=details,diff (BENCH_CASES=sync: the sync rows alone). */
const CASES = new Set((process.env['BENCH_CASES'] ?? 'export,latency,memory,startup,details,diff,sync').split(','));
/** The Node majors the start-up is reported on: the supported ones (the one running the bench is measured as itself). */
const NODE_MAJORS = (process.env['BENCH_NODES'] ?? '22,24,26').split(',').filter((major) => major !== '');
/** Where `.ci/run` and `npm test` on an old Node install the registry's `node@N`: N/node_modules/node/bin/node. */
const NODES_DIR = process.env['BENCH_NODES_DIR'] ?? here('../../../.ci/nodes');
const FORMATS = ['text', 'csv', 'ndjson'];
const MILLION = 1_000_000;

const floorArgs = (api: FakeApi, format: string): string[] => [FLOOR, api.url, FAKE_TOKEN, format];
const exportArgs = (api: FakeApi, format: string): string[] => [BIN, 'export', '--base-url', api.url, '--format', format];
const tokenEnv = { WX_ACCESS_TOKEN: FAKE_TOKEN };

/** A process the bench runs: what it is called in the table, and how to start it. */
interface Contestant {
  name: string;
  args: string[];
  env?: Record<string, string>;
}

/** Runs the contestants in turn, A B C A B C, `runs` rounds (after one warm-up run of each when asked). */
async function rounds(
  bench: Bench,
  label: string,
  contestants: readonly Contestant[],
  runs: number,
  options: { warmUp: boolean; node?: string },
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(contestants.map((contestant) => [contestant.name, []]));
  if (options.warmUp) {
    process.stderr.write(`bench: ${label}, warm-up\n`);
    for (const contestant of contestants) await measure(bench, contestant.args, contestant.env, options.node);
  }
  for (let run = 0; run < runs; run += 1) {
    process.stderr.write(`bench: ${label}, round ${run + 1} of ${runs}\n`);
    for (const contestant of contestants)
      samples.get(contestant.name)?.push(await measure(bench, contestant.args, contestant.env, options.node));
  }
  return samples;
}

/** Each format's floor and the tool, in pairs: the floor first. */
const formatPairs = (api: FakeApi): Contestant[] =>
  FORMATS.flatMap((format) => [
    { name: `floor ${format}`, args: floorArgs(api, format) },
    { name: `tool ${format}`, args: exportArgs(api, format), env: tokenEnv },
  ]);

/** Each format's floor writes what the tool writes, byte for byte, or it is no floor of it. */
async function checkFloorBytes(bench: Bench, api: FakeApi): Promise<void> {
  for (const format of FORMATS) {
    const floor = await stdoutHash(bench, floorArgs(api, format));
    const tool = await stdoutHash(bench, exportArgs(api, format), tokenEnv);
    bench.rows.push(note(`floor ${format} writes the tool's bytes (SHA-256)`, 'the same bytes', floor === tool));
  }
}

/** Throughput, 1M followers: each format against the floor that writes its bytes, and the SDK loop. */
async function exportCase(bench: Bench): Promise<void> {
  const sdkDir = await benchInstall(bench, 'sdk', SDK_PACKAGE, 'wechat-api/package.json');
  // The SDK's first call sends an empty next_openid, which the real API mostly takes as the start.
  const api = await startFakeApi({ followers: MILLION, cachePages: true, emptyCursorStarts: true });
  // Also renders the fake's page cache: the fake is not what is measured.
  await checkFloorBytes(bench, api);
  const sdk: Contestant[] = sdkDir === undefined ? [] : [{ name: 'sdk', args: [SDK, join(bench.deps, 'sdk'), api.url, FAKE_TOKEN] }];
  const samples = await rounds(bench, '1M followers', [...formatPairs(api), ...sdk], RUNS, { warmUp: true });
  for (const format of FORMATS) {
    const floor = summarize(`floor ${format}: undici request, parse, join, write; 1M followers`, samples.get(`floor ${format}`) ?? []);
    bench.rows.push(floor);
    compare(
      bench,
      summarize(`export --format ${format}, 1M followers`, samples.get(`tool ${format}`) ?? []),
      floor,
      1.1,
      'wallMs',
      '<= 1.10 x floor (wall)',
    );
  }
  if (sdkDir === undefined) {
    bench.rows.push(note(`${SDK_PACKAGE} loop: not installed (npm install failed)`));
  } else {
    const sdkRow = summarize(`${SDK_PACKAGE} getFollowers loop, text, 1M followers`, samples.get('sdk') ?? []);
    bench.rows.push(sdkRow);
    compare(
      bench,
      summarize('export --format text vs the SDK loop', samples.get('tool text') ?? []),
      sdkRow,
      0.9,
      'wallMs',
      '<= 0.9 x SDK loop (wall)',
    );
  }
  const before = api.connections();
  await measure(bench, exportArgs(api, 'text'), tokenEnv);
  const connections = api.connections() - before;
  bench.rows.push(note(`TCP connections in one export: ${connections}`, '1', connections === 1));
  await api.close();
}

/**
 * The same walk with every call answered after 50 ms, as over a real network: the user's wait is
 * the chain of calls, and the tool must add nothing to it.
 */
async function latencyCase(bench: Bench): Promise<void> {
  const api = await startFakeApi({ followers: MILLION, cachePages: true, latencyMs: 50 });
  // Renders the fake's page cache.
  await measure(bench, floorArgs(api, 'text'));
  const samples = await rounds(bench, '1M followers at 50 ms a call', formatPairs(api), LATENCY_RUNS, { warmUp: false });
  for (const format of FORMATS) {
    const floor = summarize(`floor ${format} at 50 ms a call, 1M followers`, samples.get(`floor ${format}`) ?? []);
    bench.rows.push(floor);
    compare(
      bench,
      summarize(`export --format ${format} at 50 ms a call`, samples.get(`tool ${format}`) ?? []),
      floor,
      1.03,
      'wallMs',
      '<= 1.03 x floor (wall)',
    );
  }
  await api.close();
}

/**
 * Peak RSS at 1M and at 10M followers, where growth with the list would show (at 100k V8 has not
 * yet grown its heap to its working size), against the text floor. Medians of MEMORY_RUNS.
 */
async function memoryCase(bench: Bench): Promise<void> {
  const results: { floor: Row; tool: Row }[] = [];
  for (const size of [MILLION, BIG]) {
    const label = size.toLocaleString('en-US');
    const api = await startFakeApi({ followers: size, cachePages: true });
    // The first walk renders the fake's page cache: not what is measured.
    await measure(bench, floorArgs(api, 'text'));
    const contestants = [
      { name: 'floor', args: floorArgs(api, 'text') },
      { name: 'tool', args: exportArgs(api, 'text'), env: tokenEnv },
    ];
    const samples = await rounds(bench, `memory at ${label}`, contestants, MEMORY_RUNS, { warmUp: false });
    await api.close();
    results.push({
      floor: summarize(`floor text, ${label} followers`, samples.get('floor') ?? []),
      tool: summarize(`export, ${label} followers`, samples.get('tool') ?? []),
    });
  }
  const [small, big] = results;
  if (small === undefined || big === undefined) return;
  bench.rows.push(small.floor, big.floor);
  compare(bench, small.tool, small.floor, undefined, 'rssMiB', '(the tool at 1M)');
  compare(bench, big.tool, big.floor, 1.2, 'rssMiB', `<= 1.2 x floor at ${BIG.toLocaleString('en-US')} (RSS)`);
  compare(
    bench,
    { ...big.tool, what: `export, ${BIG.toLocaleString('en-US')} vs itself at 1M` },
    small.tool,
    1.15,
    'rssMiB',
    '<= 1.15 x tool at 1M (RSS)',
  );
}

/** The supported Node majors beside the one running the bench: from .ci/nodes, else installed into the bench's folder. */
async function otherNodes(bench: Bench): Promise<string[]> {
  const running = process.versions.node.split('.')[0];
  const nodes: string[] = [];
  for (const major of NODE_MAJORS.filter((each) => each !== running)) {
    const fromCi = join(NODES_DIR, major, 'node_modules', 'node', 'bin', 'node');
    const binary = (await exists(fromCi)) ? fromCi : await benchInstall(bench, `node${major}`, `node@${major}`, 'node/bin/node');
    if (binary === undefined) bench.rows.push(note(`node@${major}: not in ${NODES_DIR} and not installed (npm install failed)`));
    else nodes.push(binary);
  }
  return nodes;
}

/** Start-up: what a cron line or a shell loop pays every time, on each supported Node. */
async function startupCase(bench: Bench): Promise<void> {
  const api = await startFakeApi({ followers: 1_000, cachePages: true });
  for (const node of [process.execPath, ...(await otherNodes(bench))]) {
    const version = await new Promise<string>((resolve) => execFile(node, ['--version'], (_error, stdout) => resolve(stdout.trim())));
    const contestants: Contestant[] = [
      { name: 'node -e 0', args: ['-e', '0'] },
      { name: 'wx-followers --version', args: [BIN, '--version'] },
      { name: 'wx-followers --help', args: [BIN, '--help'] },
      { name: 'export of 1,000 followers', args: exportArgs(api, 'text'), env: tokenEnv },
      { name: 'ordinary commander + undici program, 1,000 followers', args: [ORDINARY, api.url, FAKE_TOKEN] },
    ];
    // The warm-up also fills Node's compile cache (22.1 and newer), as any earlier run would.
    const samples = await rounds(bench, `start-up, node ${version}`, contestants, STARTUP_RUNS, { warmUp: true, node });
    const row = (name: string): Row => summarize(`${name} (node ${version})`, samples.get(name) ?? []);
    const base = row('node -e 0');
    const ordinary = row('ordinary commander + undici program, 1,000 followers');
    bench.rows.push(base);
    compare(bench, row('wx-followers --version'), base, 1.3, 'wallMs', '<= 1.3 x node -e 0');
    compare(bench, row('wx-followers --help'), base, 1.3, 'wallMs', '<= 1.3 x node -e 0');
    compare(bench, ordinary, base, undefined, 'wallMs', '(x node -e 0)');
    const small = row('export of 1,000 followers');
    compare(bench, small, ordinary, 1.15, 'wallMs', '<= 1.15 x ordinary program');
    compare(
      bench,
      { ...small, what: `export of 1,000 followers vs node -e 0 (node ${version})` },
      base,
      undefined,
      'wallMs',
      '(x node -e 0)',
    );
  }
  await api.close();
}

/**
 * Details: every call answered after 50 ms. The ideal keeps 8 details calls in flight across
 * page boundaries and waits for one list call only, the first: the others are read ahead.
 */
async function detailsCase(bench: Bench): Promise<void> {
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
  await measure(bench, args, tokenEnv);
  for (let run = 0; run < DETAILS_RUNS; run += 1) {
    const before = api.calls.length;
    const connectionsBefore = api.connections();
    samples.push(await measure(bench, args, tokenEnv));
    connections = Math.max(connections, api.connections() - connectionsBefore);
    const calls = api.calls.slice(before);
    const listCalls = calls.filter((call) => call.path === '/cgi-bin/user/get').length;
    const detailCalls = calls.filter((call) => call.path === '/cgi-bin/user/info/batchget').length;
    ideal = (detailCalls * latencyMs) / concurrency + latencyMs;
    counts = `${detailCalls} details calls / ${concurrency} + 1 list call (of ${listCalls})`;
  }
  const idealRow: Row = { what: `ideal: ${counts}, 50 ms each`, wallMs: ideal, cpuMs: NaN, rssMiB: NaN };
  bench.rows.push(idealRow);
  const row = summarize(`export --with-info --format csv --concurrency ${concurrency}, 100k followers`, samples);
  compare(bench, row, idealRow, 1.1, 'wallMs', '<= 1.1 x ideal (wall)');
  bench.rows.push(note(`TCP connections in one --with-info export: ${connections}`, `<= ${concurrency}`, connections <= concurrency));
  await api.close();
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

/**
 * diff of two exports of 5M OpenIDs against sort and comm on the same two text files. The
 * OpenIDs are random, as real ones look, so that neither file is sorted already.
 */
async function diffCase(bench: Bench): Promise<void> {
  const size = DIFF_SIZE.toLocaleString('en-US');
  const oldFile = join(bench.scratch, 'old.txt');
  const newFile = join(bench.scratch, 'new.txt');
  process.stderr.write(`bench: diff, writing two exports of ${size} OpenIDs\n`);
  await writeOpenids(oldFile, 0, DIFF_SIZE);
  await writeOpenids(newFile, Math.floor(DIFF_SIZE / 100), DIFF_SIZE + Math.floor(DIFF_SIZE / 100));
  const commScript = `LC_ALL=C comm -3 <(sort '${oldFile}') <(sort '${newFile}') > /dev/null`;
  const tool: Sample[] = [];
  const comm: number[] = [];
  for (let run = 0; run < DIFF_RUNS; run += 1) {
    process.stderr.write(`bench: diff, round ${run + 1} of ${DIFF_RUNS}\n`);
    tool.push(await measure(bench, [BIN, 'diff', oldFile, newFile]));
    comm.push(await wallTime('bash', ['-c', commScript]));
  }
  const commRow: Row = { what: `LC_ALL=C comm -3 <(sort old) <(sort new), ${size} each`, wallMs: median(comm), cpuMs: NaN, rssMiB: NaN };
  bench.rows.push(commRow);
  compare(bench, summarize(`wx-followers diff old new, ${size} each`, tool), commRow, 1, 'wallMs', '<= 1 x sort + comm (wall)');
  const peak = summarize('diff peak RSS', tool).rssMiB;
  bench.rows.push({ ...note(`diff peak RSS: ${peak.toFixed(0)} MiB`, '< 1024 MiB', peak < 1024), rssMiB: peak });
}

/** `count` followers of a list of `count + offset`, from `offset` on: the same account a day later, shifted. */
function window(all: FollowerList, offset: number, count: number): FollowerList {
  return {
    size: count,
    at: (index) => all.at(offset + index),
    indexOf: (openid) => {
      const index = all.indexOf(openid) - offset;
      return index >= 0 && index < count ? index : -1;
    },
  };
}

const syncArgs = (api: FakeApi, db: string): string[] => [BIN, 'sync', '--base-url', api.url, '--appid', FAKE_APPID, '--db', db];

/**
 * sync into SQLite against an export of the same list to a file, in the same rounds: a first sync
 * (into an empty database: the baseline) and a second one a day later (1% joined, 1% left), each
 * within 3 x the export. Then peak RSS of a first sync at 1M and at BENCH_BIG: flat.
 */
async function syncCase(bench: Bench): Promise<void> {
  const joinedAndLeft = MILLION / 100;
  const all = generatedFollowers(MILLION + joinedAndLeft);
  const today = await startFakeApi({ followers: window(all, 0, MILLION), cachePages: true });
  const tomorrow = await startFakeApi({ followers: window(all, joinedAndLeft, MILLION), cachePages: true });
  const db = join(bench.scratch, 'sync.db');
  const file = join(bench.scratch, 'export.txt');
  // Renders both fakes' page caches: the fake is not what is measured.
  await measure(bench, exportArgs(today, 'text'), tokenEnv);
  await measure(bench, exportArgs(tomorrow, 'text'), tokenEnv);
  const samples = { export: [] as Sample[], first: [] as Sample[], second: [] as Sample[] };
  for (let run = 0; run < SYNC_RUNS; run += 1) {
    process.stderr.write(`bench: sync of 1M followers into SQLite, round ${run + 1} of ${SYNC_RUNS}\n`);
    await removeDatabase(db);
    samples.export.push(await measure(bench, [BIN, 'export', '--base-url', today.url, '-o', file], tokenEnv));
    samples.first.push(await measure(bench, syncArgs(today, db), tokenEnv));
    samples.second.push(await measure(bench, syncArgs(tomorrow, db), tokenEnv));
  }
  await Promise.all([today.close(), tomorrow.close()]);
  const exportRow = summarize('export -o FILE, 1M followers (the base of the sync rows)', samples.export);
  bench.rows.push(exportRow);
  compare(
    bench,
    summarize('sync into SQLite, first (baseline), 1M followers', samples.first),
    exportRow,
    3,
    'wallMs',
    '<= 3 x export to a file (wall)',
  );
  compare(
    bench,
    summarize('sync into SQLite, second (1% joined, 1% left), 1M', samples.second),
    exportRow,
    3,
    'wallMs',
    '<= 3 x export to a file (wall)',
  );
  await syncMemory(bench, db);
  await removeDatabase(db);
}

/** Peak RSS of a first sync at 1M and at BENCH_BIG followers: memory must not grow with the list. */
async function syncMemory(bench: Bench, db: string): Promise<void> {
  const rows: Row[] = [];
  for (const size of [MILLION, BIG]) {
    const label = size.toLocaleString('en-US');
    const api = await startFakeApi({ followers: size, cachePages: true });
    await measure(bench, floorArgs(api, 'text'));
    const samples: Sample[] = [];
    for (let run = 0; run < Math.min(SYNC_RUNS, 2); run += 1) {
      process.stderr.write(`bench: sync memory at ${label}, run ${run + 1}\n`);
      await removeDatabase(db);
      samples.push(await measure(bench, syncArgs(api, db), tokenEnv));
    }
    await api.close();
    rows.push(summarize(`sync into SQLite, first, ${label} followers`, samples));
  }
  const [small, big] = rows;
  if (small === undefined || big === undefined) return;
  bench.rows.push(small);
  compare(bench, { ...big, what: `${big.what} vs 1M` }, small, 1.15, 'rssMiB', '<= 1.15 x sync at 1M (RSS)');
}

async function removeDatabase(db: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(`${db}${suffix}`, { force: true })));
}

const CASE_RUNNERS: [string, (bench: Bench) => Promise<void>][] = [
  ['export', exportCase],
  ['latency', latencyCase],
  ['memory', memoryCase],
  ['startup', startupCase],
  ['details', detailsCase],
  ['diff', diffCase],
  ['sync', syncCase],
];

const bench: Bench = {
  scratch: await mkdtemp(join(tmpdir(), 'wx-bench-')),
  /** Installed for the bench only, never a dependency: node-webot's SDK, and a Node major .ci/nodes lacks. */
  deps: process.env['BENCH_DEPS'] ?? here('../../bench-deps'),
  rows: [],
};
process.stderr.write(
  `bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB\n`,
);
for (const [name, run] of CASE_RUNNERS) if (CASES.has(name)) await run(bench);
await rm(bench.scratch, { recursive: true, force: true });
process.stdout.write(`${table(bench.rows)}\n`);
const ROUNDS: Record<string, string> = {
  export: `${RUNS} rounds (1M)`,
  latency: `${LATENCY_RUNS} rounds (1M at 50 ms a call)`,
  memory: `${MEMORY_RUNS} runs (memory)`,
  startup: `${STARTUP_RUNS} rounds (start-up)`,
  details: `${DETAILS_RUNS} runs (--with-info)`,
  diff: `${DIFF_RUNS} rounds (diff)`,
  sync: `${SYNC_RUNS} rounds (sync)`,
};
const ran = CASE_RUNNERS.filter(([name]) => CASES.has(name)).map(([name]) => ROUNDS[name]);
process.stdout.write(`\nmedians of ${ran.join(', ')}.\n`);
