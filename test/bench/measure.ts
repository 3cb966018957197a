/**
 * How `npm run bench` measures: each case a child process of its own, its CPU time and peak RSS
 * its own (from the rusage preload), medians of alternating runs, and rows of a table that says
 * for each target the ratio and whether it is met.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, open, readFile, rm } from 'node:fs/promises';
import { devNull } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUSAGE = fileURLToPath(new URL('./rusage.js', import.meta.url));

/** What a run of the bench keeps: its scratch folder, where it installs what it compares with, its rows. */
export interface Bench {
  scratch: string;
  deps: string;
  rows: Row[];
}

export interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
}

export interface Row {
  what: string;
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
  ratio?: number;
  target?: string;
  /** Undefined for a row shown for reference, with no target to meet. */
  met?: boolean;
}

const childEnv = (bench: Bench, env: Record<string, string>): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  HOME: bench.scratch,
  WX_FOLLOWERS_CONFIG_DIR: bench.scratch,
  ...env,
});

/**
 * One child process, stdout to /dev/null, stderr a pipe (not a TTY); its own rusage from the preload.
 * /dev/null opened write-only, as a shell's `> /dev/null`: stdio 'ignore' hands a child /dev/null
 * open for reading too, which export takes for a closed stdout (`>&-`) and refuses.
 */
export async function measure(
  bench: Bench,
  args: readonly string[],
  env: Record<string, string> = {},
  node = process.execPath,
): Promise<Sample> {
  const rusageFile = join(bench.scratch, `rusage-${process.hrtime.bigint()}.json`);
  const stdout = await open(devNull, 'w');
  const started = performance.now();
  const child = spawn(node, ['--import', RUSAGE, ...args], {
    stdio: ['ignore', stdout.fd, 'pipe'],
    env: childEnv(bench, { WX_BENCH_RUSAGE: rusageFile, ...env }),
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

/** The SHA-256 of what a Node child writes to stdout: a floor must write the tool's bytes. */
export async function stdoutHash(bench: Bench, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv(bench, env) });
  const hash = createHash('sha256');
  child.stdout.on('data', (chunk: Buffer) => hash.update(chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}`);
  return hash.digest('hex');
}

/** Wall time of a command that is not Node (the shell's sort and comm). */
export async function wallTime(command: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
  return performance.now() - started;
}

export const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** `npm install` of a package into a folder of the bench's own (not the project's node_modules), once. */
export async function benchInstall(bench: Bench, folder: string, spec: string, probe: string): Promise<string | undefined> {
  const dir = join(bench.deps, folder);
  const target = join(dir, 'node_modules', probe);
  if (!(await exists(target))) {
    process.stderr.write(`bench: npm install --no-save ${spec} into ${dir}\n`);
    await new Promise<void>((resolve) =>
      execFile('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, spec], () => resolve()),
    );
  }
  return (await exists(target)) ? target : undefined;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

export function summarize(what: string, samples: Sample[]): Row {
  return {
    what,
    wallMs: median(samples.map((sample) => sample.wallMs)),
    cpuMs: median(samples.map((sample) => sample.cpuMs)),
    rssMiB: median(samples.map((sample) => sample.rssMiB)),
  };
}

/** A row with no times: a count, a check, a note. */
export const note = (what: string, target?: string, met?: boolean): Row => ({ what, wallMs: NaN, cpuMs: NaN, rssMiB: NaN, target, met });

/** Adds `row` with its ratio to `base`; a limit of undefined shows the ratio for reference only. */
export function compare(bench: Bench, row: Row, base: Row, limit: number | undefined, key: 'wallMs' | 'rssMiB', target: string): void {
  const ratio = row[key] / base[key];
  bench.rows.push({ ...row, ratio, target, met: limit === undefined ? undefined : ratio <= limit });
}

export function table(rows: readonly Row[]): string {
  const number = (value: number, digits = 0): string => (Number.isNaN(value) ? '' : value.toFixed(digits));
  const met = (row: Row): string => (row.met === undefined ? '' : row.met ? 'met' : 'MISSED');
  return [
    '| what | wall ms | cpu ms | peak RSS MiB | ratio | target | |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.what} | ${number(row.wallMs)} | ${number(row.cpuMs)} | ${number(row.rssMiB, 1)} | ${row.ratio === undefined ? '' : number(row.ratio, 2)} | ${row.target ?? ''} | ${met(row)} |`,
    ),
  ].join('\n');
}
