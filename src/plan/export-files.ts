import { constants, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { escapeText, usageError, type WxError } from '../errors.js';
import { checkDescriptorOutput, descriptorNamed } from '../out/descriptors.js';
import { readFileEnd, type ExportFileKind } from '../out/file-end.js';
import type { FormatName } from '../out/formats.js';
import { linkRefused, outputLockPathOf, partialPathOf, setAsidePathOf, type FileOpening } from '../out/output.js';

/** Where the rows go, as settled before the first call. */
export type OutputPlan =
  | { kind: 'stdout' }
  /**
   * A regular file, written through FILE.partial and renamed once complete. `partial` is what the
   * plan found at FILE.partial (looked at once): the run checks that the file it opens is that one.
   */
  | { kind: 'file'; path: string; partialPath: string; partial: Stats | undefined; opening: FileOpening }
  /** A device, FIFO or socket (or /dev/stdout): written straight through, never replaced. */
  | { kind: 'special'; path: string };

export type FileOutputPlan = OutputPlan & { kind: 'file' };

const STDOUT_NAMES = ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'];

/** -o's output: stdout when not given, a special file, or a regular file written through FILE.partial. */
export async function planOutputOrStdout(path: string | undefined, withState: boolean): Promise<OutputPlan> {
  if (path === undefined) return { kind: 'stdout' };
  // The process's own stdout by name: opened again by path it may be a socket (ENXIO), so written as stdout.
  if (STDOUT_NAMES.includes(resolve(path)) && !withState) return { kind: 'stdout' };
  return planOutput(path, withState);
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
  // Where a fresh run would move an earlier FILE.partial: a folder there would stop it halfway.
  const setAside = setAsidePathOf(partialPath);
  if ((await statOrUndefined(setAside, fs.lstat))?.isDirectory() === true) {
    throw usageError(
      `${escapeText(setAside)} is a folder, where an earlier ${escapeText(partialPath)} would be moved; it is left as it is. Remove it, or write elsewhere.`,
    );
  }
  return { kind: 'file', path, partialPath, partial: await checkPartial(partialPath), opening: { kind: 'new' } };
}

/** A FILE.partial the tool would write into or move aside must be a file of its own, not a link. */
async function checkPartial(partialPath: string): Promise<Stats | undefined> {
  const stats = await statOrUndefined(partialPath, fs.lstat);
  if (stats === undefined) return undefined;
  if (stats.isSymbolicLink()) throw linkRefused(partialPath, 'is a symbolic link');
  if (!stats.isFile()) throw linkRefused(partialPath, 'is not a regular file');
  if (stats.nlink !== 1) throw linkRefused(partialPath, 'has another hard link');
  return stats;
}

/**
 * A --resume into a file continues FILE.partial, or FILE that a --limit run finished: only when
 * that file is the same kind of export and ends with the cursor, so that no row is written twice
 * or lost and no file mixes two formats.
 */
export async function checkResume(output: FileOutputPlan, resume: string, kind: ExportFileKind): Promise<void> {
  const { path, partialPath } = output;
  const continued = output.partial !== undefined ? partialPath : (await statOrUndefined(path, fs.stat)) !== undefined ? path : undefined;
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
export async function checkStateAgainstFile(
  state: string,
  output: FileOutputPlan,
  start: { format: FormatName; cursor: string; continueAtBytes: number },
): Promise<void> {
  const { cursor, continueAtBytes, format } = start;
  const { partialPath, partial: stats } = output;
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
export async function checkStatePath(state: string, output: string): Promise<void> {
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

/** A path's stats, or undefined when there is nothing there; any other failure is exit 2. */
export async function statOrUndefined(path: string, how: (path: string) => Promise<Stats>): Promise<Stats | undefined> {
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
