import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ExitCode, WxError, usageError } from './errors.js';
import { isOpenidShape } from './options.js';
import { shown } from './shown.js';
import { renameRetrying, samePath } from './platform-fs.js';
import { O_NOFOLLOW } from './sinks/file-end.js';
import { isFormatName, type FormatName } from './sinks/formats.js';

/** What `--state FILE` records after each page, so that the next cron run goes on from there. */
export interface ExportState {
  version: 1;
  /** The absolute path of the export's output. */
  output: string;
  format: FormatName;
  /** Which list, as its source describes it (`follower list`, `blacklist`); absent in older states: the follower list. */
  list?: string;
  /** Whether the rows carry each follower's details; absent: no. */
  withInfo?: boolean;
  /** The last OpenID written, or undefined before the first page. */
  cursor: string | undefined;
  written: number;
  /** The length of FILE.partial when the cursor was recorded: anything past it is cut on continuing. */
  outputBytes: number;
  total: number | undefined;
  startedAt: string;
  updatedAt: string;
  done: boolean;
}

/** What a run exports: a state belongs to one such export. */
export interface ExportKind {
  /** Undefined when not given: a continued run keeps the state's, a new one takes `defaultFormat`. */
  format: FormatName | undefined;
  defaultFormat: FormatName;
  list: string;
  withInfo: boolean;
}

/** Where this run starts, as the state file says. */
export interface StartingPoint {
  format: FormatName;
  cursor: string | undefined;
  written: number;
  /** Defined when the run continues an unfinished export: the bytes of FILE.partial to keep. */
  continueAtBytes: number | undefined;
}

/** A lock older than this from another host is taken to be left by a crash. */
const FOREIGN_LOCK_EXPIRY_MS = 24 * 60 * 60 * 1000;

export class Checkpoint {
  readonly start: StartingPoint;
  readonly #path: string;
  readonly #lockPath: string;
  #state: ExportState;
  #lockNonce: string | undefined;

  private constructor(path: string, state: ExportState, start: StartingPoint) {
    this.#path = path;
    this.#lockPath = `${path}.lock`;
    this.#state = state;
    this.start = start;
  }

  /**
   * Locks the state file (before any request) and reads where to start. A corrupt state, or one
   * that belongs to another output or format, is refused, never overwritten.
   */
  static async open(path: string, output: string, kind: ExportKind): Promise<Checkpoint> {
    const { format } = kind;
    const nonce = await takeLock(`${path}.lock`);
    try {
      const previous = await readState(path);
      const outputPath = resolve(output);
      const now = new Date().toISOString();
      if (previous !== undefined && !previous.done) {
        if (!samePath(previous.output, outputPath)) {
          throw usageError(
            `The state file ${path} belongs to an unfinished export into ${shown(previous.output)}, not ${outputPath}. Use another --state file, or finish that export first.`,
          );
        }
        if (format !== undefined && format !== previous.format) {
          throw usageError(
            `The state file ${path} belongs to an unfinished ${previous.format} export; --format ${format} would mix two formats in ${shown(previous.output)}.`,
          );
        }
        const previousList = previous.list ?? 'follower list';
        if (previousList !== kind.list || (previous.withInfo ?? false) !== kind.withInfo) {
          const what = (list: string, withInfo: boolean): string => `the ${list}${withInfo ? ' with details' : ''}`;
          throw usageError(
            `The state file ${path} belongs to an unfinished export of ${what(shown(previousList), previous.withInfo ?? false)}, not of ${what(kind.list, kind.withInfo)}. Run the command that started it, or use another --state file.`,
          );
        }
        const checkpoint = new Checkpoint(path, previous, {
          format: previous.format,
          cursor: previous.cursor,
          written: previous.written,
          continueAtBytes: previous.cursor === undefined ? undefined : previous.outputBytes,
        });
        checkpoint.#lockNonce = nonce;
        return checkpoint;
      }
      const fresh: ExportState = {
        version: 1,
        output: outputPath,
        format: format ?? kind.defaultFormat,
        list: kind.list,
        withInfo: kind.withInfo,
        cursor: undefined,
        written: 0,
        outputBytes: 0,
        total: undefined,
        startedAt: now,
        updatedAt: now,
        done: false,
      };
      const checkpoint = new Checkpoint(path, fresh, {
        format: fresh.format,
        cursor: undefined,
        written: 0,
        continueAtBytes: undefined,
      });
      checkpoint.#lockNonce = nonce;
      await checkpoint.#write();
      return checkpoint;
    } catch (error) {
      await fs.rm(`${path}.lock`, { force: true });
      throw error;
    }
  }

  /** After a page is written and synced to disk. */
  async record(cursor: string, written: number, outputBytes: number, total: number | undefined): Promise<void> {
    this.#state = { ...this.#state, cursor, written, outputBytes, total, updatedAt: new Date().toISOString() };
    await this.#write();
  }

  async complete(): Promise<void> {
    this.#state = { ...this.#state, done: true, updatedAt: new Date().toISOString() };
    await this.#write();
  }

  /** Removes the lock if it is still this run's: another run may have judged it stale and taken it. */
  async release(): Promise<void> {
    const owner = await readLock(this.#lockPath);
    if (owner !== undefined && owner.nonce !== undefined && owner.nonce !== this.#lockNonce) return;
    await fs.rm(this.#lockPath, { force: true });
  }

  /** Write a temp file, fsync it, rename it over the state: a crash leaves the old state or the new. */
  async #write(): Promise<void> {
    const temp = `${this.#path}.tmp-${process.pid}`;
    try {
      const handle = await createReplacing(temp);
      try {
        await handle.writeFile(`${JSON.stringify(this.#state, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await renameRetrying(temp, this.#path);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw new WxError(`Could not write the state file ${this.#path}: ${(error as Error).message}.`, ExitCode.Failure, {
        cause: error,
      });
    }
  }
}

/** Created, never opened through a name planted there: O_EXCL fails on a symlink, a dangling one too. */
const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;

/** A file of ours whose name someone may have planted (a link, a leftover): that name is replaced. */
async function createReplacing(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, CREATE_EXCLUSIVE, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  await fs.rm(path, { force: true });
  return fs.open(path, CREATE_EXCLUSIVE, 0o644);
}

interface LockOwner {
  pid: number;
  host: string;
  since: number;
  /**
   * When the process started, in clock ticks since boot (Linux, /proc/PID/stat): a pid alone is
   * handed to another process once its owner is gone, and that one would hold the lock forever.
   * Absent in older locks and where /proc is not.
   */
  started?: number;
  /** This run's own mark, so that it removes only its own lock. Absent in older locks. */
  nonce?: string;
}

/** Gives the nonce written into the lock. */
async function takeLock(lockPath: string): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await fs.open(lockPath, CREATE_EXCLUSIVE, 0o644);
      const started = await processStart(process.pid);
      const owner: LockOwner = {
        pid: process.pid,
        host: hostname(),
        since: Date.now(),
        ...(started === undefined ? {} : { started }),
        nonce: randomUUID(),
      };
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return owner.nonce as string;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new WxError(`Could not lock ${lockPath}: ${(error as Error).message}.`, ExitCode.Failure, { cause: error });
      }
    }
    const owner = await readLock(lockPath);
    if (owner !== undefined && (await isAlive(owner))) {
      throw new WxError(
        `Another run (pid ${owner.pid} on ${owner.host}, since ${new Date(owner.since).toISOString()}) is using this state file; ${lockPath} is its lock. Let it finish.`,
        ExitCode.Failure,
      );
    }
    // Left by a run that crashed or was killed: take it over.
    await fs.rm(lockPath, { force: true });
  }
  throw new WxError(`Could not lock ${lockPath}: another run keeps taking it.`, ExitCode.Failure);
}

async function readLock(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await fs.readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string' || typeof owner.since !== 'number') return undefined;
    return {
      pid: owner.pid,
      host: owner.host,
      since: owner.since,
      ...(typeof owner.started === 'number' ? { started: owner.started } : {}),
      ...(typeof owner.nonce === 'string' ? { nonce: owner.nonce } : {}),
    };
  } catch {
    return undefined;
  }
}

async function isAlive(owner: LockOwner): Promise<boolean> {
  if (owner.host !== hostname()) return Date.now() - owner.since < FOREIGN_LOCK_EXPIRY_MS;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.started === undefined) return true;
  // The pid lives; it is the owner only if it started when the owner did.
  const started = await processStart(owner.pid);
  return started === undefined || started === owner.started;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), where Linux tells it. */
async function processStart(pid: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[19]);
    return Number.isSafeInteger(started) ? started : undefined;
  } catch {
    return undefined;
  }
}

async function readState(path: string): Promise<ExportState | undefined> {
  let text: string;
  try {
    // Read through O_NOFOLLOW: a symlink here would have the state renamed over the link.
    text = await fs.readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | O_NOFOLLOW });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw usageError(`The state file ${path} is a symbolic link; it is left as it is. Point --state at the file itself, or remove the link.`);
    }
    throw new WxError(`Could not read the state file ${path}: ${(error as Error).message}.`, ExitCode.Failure, { cause: error });
  }
  const corrupt = (why: string): WxError =>
    usageError(`The state file ${path} is not a wx-followers state (${why}). Remove it to start a fresh export, or point --state elsewhere.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof json !== 'object' || json === null) throw corrupt('not an object');
  const state = json as Record<string, unknown>;
  const { version, output, format, list, withInfo, cursor, written, outputBytes, total, startedAt, updatedAt, done } = state;
  if (version !== 1) throw corrupt('unknown version');
  if (typeof output !== 'string' || typeof format !== 'string' || !isFormatName(format)) throw corrupt('no output or format');
  if (cursor !== undefined && (typeof cursor !== 'string' || !isOpenidShape(cursor))) throw corrupt('bad cursor');
  if (typeof written !== 'number' || typeof outputBytes !== 'number' || typeof done !== 'boolean') throw corrupt('bad counts');
  if (total !== undefined && typeof total !== 'number') throw corrupt('bad total');
  if (list !== undefined && typeof list !== 'string') throw corrupt('bad list');
  if (withInfo !== undefined && typeof withInfo !== 'boolean') throw corrupt('bad withInfo');
  if (typeof startedAt !== 'string' || typeof updatedAt !== 'string') throw corrupt('bad times');
  return { version, output, format, list, withInfo, cursor, written, outputBytes, total, startedAt, updatedAt, done };
}
