import { constants, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ExportOptions } from './commands/export.js';
import type { DetailsOptions } from './details.js';
import { checkDescriptorOutput, descriptorNamed } from './descriptors.js';
import { usageError, type WxError } from './errors.js';
import { checkBom, parseCount, parseFormat, parseLanguage, parsePositiveInteger, parseResume } from './options.js';
import { readFileEnd, type ExportFileKind } from './sinks/file-end.js';
import type { FormatName } from './sinks/formats.js';
import { linkRefused, partialPathOf, setAsidePathOf, type FileOpening } from './sinks/output.js';
import { blacklist, followerList, taggedFollowers, type ListChoice } from './sources.js';
import { Checkpoint } from './state.js';
import { FileLock, lockHolder } from './lock.js';
import { escapeText } from './shown.js';

/** Where the rows go, as settled before the first call. */
export type OutputPlan =
  | { kind: 'stdout' }
  /** A regular file, written through FILE.partial and renamed once complete. */
  | { kind: 'file'; path: string; partialPath: string; opening: FileOpening }
  /** A device, FIFO or socket (or /dev/stdout): written straight through, never replaced. */
  | { kind: 'special'; path: string };

/** One checked export: the page loop runs on this alone. */
export interface ExportPlan {
  list: ListChoice;
  format: FormatName;
  details: DetailsOptions | undefined;
  /** The OpenID to go on after: from --resume, or from the state file. */
  resume: string | undefined;
  limit: number | undefined;
  output: OutputPlan;
  /** Locked: released by whoever runs the plan. */
  checkpoint: Checkpoint | undefined;
  /** What the state file records as written before this run. */
  writtenBefore: number;
  /** A file output's lock (FILE.partial.lock), held from the plan on: released by whoever runs the plan. */
  outputLock: FileLock | undefined;
}

const STDOUT_NAMES = ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'];
const DEFAULT_CONCURRENCY = 8;
/** More calls at once would only meet the API's per-minute limit (45011) sooner. */
export const MAX_CONCURRENCY = 32;

/**
 * Turns the options into one plan, checking every value and every path before any request: a
 * mistake costs no quota. The only lasting effect is the state file's lock (and a fresh state).
 */
export async function planExport(options: ExportOptions): Promise<ExportPlan> {
  const explicitFormat = options.format === undefined ? undefined : parseFormat(options.format);
  const limit = parsePositiveInteger('--limit', options.limit);
  const details = parseDetailsOptions(options, explicitFormat);
  const resume = parseResume(options.resume);
  if (options.state !== undefined) {
    if (options.output === undefined) throw usageError('--state needs --output: a continued run appends to the same file.');
    if (resume !== undefined) throw usageError('--state and --resume do not go together: the state file holds the cursor.');
  }
  const list = chooseList(options);
  const defaultFormat: FormatName = details === undefined ? 'text' : 'csv';
  const format = explicitFormat ?? defaultFormat;
  // Before any path is looked at; with --state and no --format, the state's format is checked later.
  if (explicitFormat !== undefined || options.state === undefined) checkBom(options.bom, format);
  const plan: ExportPlan = {
    list,
    format,
    details,
    resume,
    limit,
    output: { kind: 'stdout' },
    checkpoint: undefined,
    writtenBefore: 0,
    outputLock: undefined,
  };
  if (options.output === undefined) return plan;

  // The process's own stdout by name: opened again by path it may be a socket (ENXIO), so written as stdout.
  if (STDOUT_NAMES.includes(resolve(options.output)) && options.state === undefined) return plan;
  plan.output = await planOutput(options.output, options.state !== undefined);
  if (plan.output.kind !== 'file') return plan;
  const { path, partialPath } = plan.output;
  // Before anything reads, moves or writes FILE.partial: two runs on one output would take each other's.
  plan.outputLock = await lockOutput(path, partialPath);
  try {
    return await planFileOutput(options, plan, plan.output, explicitFormat, defaultFormat);
  } catch (error) {
    await plan.outputLock.release();
    throw error;
  }
}

async function planFileOutput(
  options: ExportOptions,
  plan: ExportPlan,
  output: OutputPlan & { kind: 'file' },
  explicitFormat: FormatName | undefined,
  defaultFormat: FormatName,
): Promise<ExportPlan> {
  const { path, partialPath } = output;
  const { resume, format, details, list } = plan;
  if (options.state === undefined) {
    if (resume !== undefined) {
      await checkResume(path, partialPath, resume, { format, withInfo: details !== undefined });
      output.opening = { kind: 'resume' };
    }
    return plan;
  }
  await checkStatePath(options.state, path);
  // Locked before any request: two cron runs on one state must not both spend the quota.
  const checkpoint = await Checkpoint.open(options.state, path, {
    format: explicitFormat,
    defaultFormat,
    list: list.description,
    withInfo: details !== undefined,
  });
  const { cursor, continueAtBytes } = checkpoint.start;
  if (cursor !== undefined && continueAtBytes !== undefined) {
    try {
      await checkStateAgainstFile(options.state, partialPath, { ...checkpoint.start, cursor, continueAtBytes });
    } catch (error) {
      await checkpoint.release();
      throw error;
    }
  }
  const bytes = continueAtBytes;
  output.opening = bytes === undefined ? { kind: 'new' } : { kind: 'continue', bytes };
  return { ...plan, checkpoint, format: checkpoint.start.format, resume: checkpoint.start.cursor, writtenBefore: checkpoint.start.written };
}

async function planOutput(path: string, withState: boolean): Promise<OutputPlan> {
  if (path === '') throw usageError('--output needs a file name; leave it out to write to stdout.');
  // Before anything is opened: a descriptor the shell did not open may be one of Node's own.
  const descriptor = await descriptorNamed(path);
  if (descriptor !== undefined) await checkDescriptorOutput(path, descriptor);
  const target = await statOrUndefined(path, fs.stat);
  if (target?.isDirectory() === true) {
    throw usageError(
      `--output ${escapeText(path)} is a directory: give a file name in it, such as ${escapeText(join(path, 'followers.csv'))}.`,
    );
  }
  // /dev/stdout, /dev/fd/1 and the like name whatever the process's stdout is, a file included:
  // FILE.partial next to them would be a file in /dev, and the rename would replace the link.
  const link = await statOrUndefined(path, fs.lstat);
  const procLink = link?.isSymbolicLink() === true && /^\/(dev|proc)\//.test(resolve(path));
  if (target !== undefined && (!target.isFile() || procLink)) {
    if (withState) {
      throw usageError(
        `--output ${escapeText(path)} is not a regular file, and --state continues a file across runs: give a file for --output.`,
      );
    }
    return { kind: 'special', path };
  }
  const directory = dirname(resolve(path));
  const parent = await statOrUndefined(directory, fs.stat);
  if (parent === undefined || !parent.isDirectory()) {
    const what = parent === undefined ? 'does not exist' : 'is not a folder';
    throw usageError(`--output ${escapeText(path)}: the folder ${escapeText(directory)} ${what}. Create it first, or write elsewhere.`);
  }
  try {
    await fs.access(directory, constants.W_OK | constants.X_OK);
  } catch {
    throw usageError(`--output ${escapeText(path)}: the folder ${escapeText(directory)} is not writable by this user. Write elsewhere.`);
  }
  const partialPath = partialPathOf(path);
  await checkPartial(partialPath);
  return { kind: 'file', path, partialPath, opening: { kind: 'new' } };
}

export function outputLockPathOf(partialPath: string): string {
  return `${partialPath}.lock`;
}

/** One run at a time writes FILE.partial: a second is refused (exit 1) before any call. */
async function lockOutput(path: string, partialPath: string): Promise<FileLock> {
  const lockPath = outputLockPathOf(partialPath);
  return FileLock.take(
    lockPath,
    (owner) =>
      `Another run (${lockHolder(owner)}) is writing to ${escapeText(path)}; ${escapeText(lockPath)} is its lock. Let it finish, or give this run another --output.`,
  );
}

/** A FILE.partial the tool would write into or move aside must be a file of its own, not a link. */
async function checkPartial(partialPath: string): Promise<void> {
  const stats = await statOrUndefined(partialPath, fs.lstat);
  if (stats === undefined) return;
  if (stats.isSymbolicLink()) throw linkRefused(partialPath, 'is a symbolic link');
  if (!stats.isFile()) throw linkRefused(partialPath, 'is not a regular file');
  if (stats.nlink !== 1) throw linkRefused(partialPath, 'has another hard link');
}

/**
 * A --resume into a file continues FILE.partial, or FILE that a --limit run finished: only when
 * that file is the same kind of export and ends with the cursor, so that no row is written twice
 * or lost and no file mixes two formats.
 */
async function checkResume(path: string, partialPath: string, resume: string, kind: ExportFileKind): Promise<void> {
  const continued =
    (await statOrUndefined(partialPath, fs.lstat)) !== undefined
      ? partialPath
      : (await statOrUndefined(path, fs.stat)) !== undefined
        ? path
        : undefined;
  if (continued === undefined) {
    throw usageError(
      `--resume ${resume} continues ${escapeText(partialPath)} (or ${escapeText(path)}), and neither is there. Run without --resume to export from the start, or write the rest to stdout (--resume ${resume} without --output).`,
    );
  }
  const end = await readFileEnd(continued).catch((error: unknown) => {
    throw usageError(
      `Could not read ${escapeText(continued)} to check that it ends with --resume ${resume}: ${escapeText((error as Error).message)}.`,
    );
  });
  if (end.kind === undefined) {
    throw usageError(
      `${escapeText(continued)} is not an export of wx-followers (or is empty), so --resume cannot continue it. It is left as it is.`,
    );
  }
  if (end.kind.format !== kind.format || end.kind.withInfo !== kind.withInfo) {
    throw usageError(
      `${escapeText(continued)} is ${describe(end.kind)}, and this run writes ${describe(kind)}: continuing it would mix the two. Run with the options that wrote it (${flagsOf(end.kind)}), or write elsewhere.`,
    );
  }
  // Continued with '\n' lines, it would mix two line endings (and a reader that splits on one would see stray '\r's).
  if (end.crlf) {
    throw usageError(
      `${escapeText(continued)} has Windows line endings (\\r\\n: an editor saved it so?), and an export writes \\n ones: continuing it would mix the two. It is left as it is: convert it back to \\n line endings (dos2unix, or the editor's LF setting), then run again with --resume ${resume}; or run without --resume.`,
    );
  }
  if (end.lastOpenid === undefined) {
    throw usageError(
      `${escapeText(continued)} does not end with a whole record (a run was killed in the middle of a line?), so it cannot be continued. It is left as it is: cut it back to its last whole line and resume after that line's OpenID, or run without --resume.`,
    );
  }
  if (end.lastOpenid !== resume) {
    throw usageError(
      `${escapeText(continued)} ends with OpenID ${end.lastOpenid}, not ${resume}: continuing it after ${resume} would repeat or lose rows. To continue it, run again with --resume ${end.lastOpenid}`,
    );
  }
}

/**
 * A --state run goes on after the recorded cursor, cutting FILE.partial back to the recorded
 * length: only when FILE.partial, cut there, ends with that cursor as its last record in the
 * state's format. A hand-edited state (or a FILE.partial replaced since) would write rows twice.
 */
async function checkStateAgainstFile(
  state: string,
  partialPath: string,
  start: { format: FormatName; cursor: string; continueAtBytes: number },
): Promise<void> {
  const { cursor, continueAtBytes, format } = start;
  const stats = await statOrUndefined(partialPath, fs.lstat);
  let problem: string | undefined;
  if (stats === undefined) problem = 'is not there';
  else if (stats.size < continueAtBytes) problem = `is only ${stats.size} bytes long`;
  else {
    const end = await readFileEnd(partialPath, continueAtBytes).catch(() => undefined);
    if (end?.kind === undefined) problem = 'holds no export there';
    else if (end.kind.format !== format) problem = `is a ${end.kind.format} export, not ${format}`;
    else if (end.lastOpenid === undefined) problem = 'ends there in the middle of a record';
    else if (end.lastOpenid !== cursor) problem = `ends there with OpenID ${end.lastOpenid}`;
  }
  if (problem === undefined) return;
  const shownState = escapeText(state);
  const shownPartial = escapeText(partialPath);
  throw usageError(
    `The state file ${shownState} and ${shownPartial} do not agree: the state records OpenID ${cursor} at byte ${continueAtBytes}, and ${shownPartial} ${problem}. Going on would repeat or lose rows, so both are left as they are. To start the export afresh, remove ${shownState} and ${shownPartial}.`,
  );
}

/** The state file is a file of its own: never the output, its .partial, or a lock. */
async function checkStatePath(state: string, output: string): Promise<void> {
  if (state === '') throw usageError('--state needs a file name.');
  const stateStats = await statOrUndefined(state, fs.lstat);
  if (stateStats?.isDirectory() === true) throw usageError(`--state ${escapeText(state)} is a directory: give a file name in it.`);
  // A link is refused with a message of its own (readState); a device or FIFO is no file to rename a state over.
  if (stateStats !== undefined && !stateStats.isFile() && !stateStats.isSymbolicLink()) {
    throw usageError(
      `--state ${escapeText(state)} is not a regular file (a device, named pipe or socket): the state is a file the tool replaces after each page. Give a path to a file, such as ${escapeText(output)}.state.`,
    );
  }
  const statePath = await canonical(state);
  const outputPath = await canonical(output);
  const partialPath = partialPathOf(outputPath);
  const taken = [outputPath, partialPath, setAsidePathOf(partialPath), outputLockPathOf(partialPath)];
  const clash = [statePath, `${statePath}.lock`].some((name) => taken.includes(name));
  const sameFile = await sameInode(state, output);
  if (clash || sameFile) {
    throw usageError(
      `--state ${escapeText(state)} and --output ${escapeText(output)} name the same file (or its .partial or the state's lock): the state would overwrite the export. Give the state a name of its own, such as ${escapeText(output)}.state.`,
    );
  }
  const directory = dirname(statePath);
  const parent = await statOrUndefined(directory, fs.stat);
  if (parent === undefined || !parent.isDirectory()) {
    throw usageError(`--state ${escapeText(state)}: the folder ${escapeText(directory)} does not exist. Create it first.`);
  }
  // The state, its temp file and its lock are created there: found now, as for --output, not after the lock.
  try {
    await fs.access(directory, constants.W_OK | constants.X_OK);
  } catch {
    throw usageError(
      `--state ${escapeText(state)}: the folder ${escapeText(directory)} is not writable by this user. Put the state elsewhere.`,
    );
  }
}

/** The absolute path with the folder's links resolved, so that two spellings of one file compare equal. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  const folder = await fs.realpath(dirname(absolute)).catch(() => dirname(absolute));
  return join(folder, basename(absolute));
}

async function sameInode(first: string, second: string): Promise<boolean> {
  const [a, b] = await Promise.all([statOrUndefined(first, fs.stat), statOrUndefined(second, fs.stat)]);
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

async function statOrUndefined(path: string, how: (path: string) => Promise<Stats>): Promise<Stats | undefined> {
  try {
    return await how(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw cannotCheck(path, error);
  }
}

function cannotCheck(path: string, error: unknown): WxError {
  return usageError(`Could not look at ${escapeText(path)}: ${escapeText((error as Error).message)}.`);
}

function describe(kind: ExportFileKind): string {
  return `a ${kind.format} export${kind.withInfo ? ' with details' : ''}`;
}

function flagsOf(kind: ExportFileKind): string {
  return `-f ${kind.format}${kind.withInfo ? ' --with-info' : ''}`;
}

function chooseList(options: ExportOptions): ListChoice {
  if (options.tag !== undefined && options.blacklist === true) {
    throw usageError('--tag and --blacklist do not go together: export one list at a time.');
  }
  if (options.blacklist === true) return blacklist;
  const tagid = parseCount('--tag', options.tag);
  return tagid === undefined ? followerList : taggedFollowers(tagid);
}

export function textWithInfo(): WxError {
  return usageError('--with-info writes --format csv or --format ndjson: text has one OpenID a line and no room for the details.');
}

/** Undefined without --with-info, whose options are then refused rather than ignored. */
function parseDetailsOptions(options: ExportOptions, format: FormatName | undefined): DetailsOptions | undefined {
  if (options.withInfo !== true) {
    if (options.lang !== undefined) throw usageError('--lang goes with --with-info.');
    if (options.concurrency !== undefined) throw usageError('--concurrency goes with --with-info.');
    return undefined;
  }
  if (format === 'text') throw textWithInfo();
  const concurrency =
    parsePositiveInteger(
      '--concurrency',
      options.concurrency,
      MAX_CONCURRENCY,
      "more calls at once only meet the API's per-minute limit sooner",
    ) ?? DEFAULT_CONCURRENCY;
  return { lang: options.lang === undefined ? 'zh_CN' : parseLanguage(options.lang), concurrency };
}

/** What a fresh run says when it moved an earlier FILE.partial aside: where, and how to continue that one instead. */
export async function setAsideMessage(
  plan: ExportPlan,
  partialPath: string,
  setAside: { path: string; replacedOlder: boolean },
): Promise<string> {
  const end = await readFileEnd(setAside.path).catch(() => undefined);
  const replaced = setAside.replacedOlder ? ` (replacing the older ${setAside.path})` : '';
  const head = `wx-followers: an earlier run left ${escapeText(partialPath)}; it is moved to ${escapeText(setAside.path)}${replaced}, and this run starts afresh.`;
  if (end?.kind === undefined || end.lastOpenid === undefined || plan.output.kind !== 'file') {
    return `${head} It ends with no whole record to continue from.`;
  }
  const args = [
    'wx-followers',
    'export',
    ...listFlags(plan),
    '-f',
    end.kind.format,
    ...(end.kind.withInfo ? ['--with-info'] : []),
    '-o',
    plan.output.path,
    '--resume',
    end.lastOpenid,
  ];
  return `${head} To continue it instead: ${escapeText(`mv ${shellQuote(setAside.path)} ${shellQuote(partialPath)} && ${args.map(shellQuote).join(' ')}`)}`;
}

function listFlags(plan: ExportPlan): string[] {
  if (plan.list === blacklist) return ['--blacklist'];
  const tag = /with tag (\d+)$/.exec(plan.list.description)?.[1];
  return tag === undefined ? [] : ['--tag', tag];
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
