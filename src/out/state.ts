import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { escapeText, shown, ExitCode, WxError, usageError } from '../errors.js';
import { FileLock, lockHolder } from './lock.js';
import { isOpenidShape, type AccountId } from '../openid.js';
import { CREATE_EXCLUSIVE, O_NOFOLLOW, renameRetrying, samePath } from './platform-fs.js';
import { isFormatName, type FormatName } from './formats.js';

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
  /** Whose list: absent in older states, and recorded by the next run that continues one. */
  account?: AccountId;
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
  /** Whose list this run walks, as far as it is known before any call. */
  account: AccountId;
}

/** Where this run starts, as the state file says. */
export interface StartingPoint {
  format: FormatName;
  cursor: string | undefined;
  written: number;
  /** Defined when the run continues an unfinished export: the bytes of FILE.partial to keep. */
  continueAtBytes: number | undefined;
}

/** What the plan read of a state file, and where the run starts: checked again under the lock. */
export interface StatePlan {
  path: string;
  /** The state as the plan read it; undefined when there was none. */
  read: ExportState | undefined;
  /** The state the run writes first (a fresh export's, or `read` with this run's account); undefined: `read` as it is. */
  fresh: ExportState | undefined;
  start: StartingPoint;
}

/**
 * Reads the state file and settles where the run starts, without locking or writing anything. A
 * corrupt state, or one that belongs to another output, format or list, is refused, never overwritten.
 */
export async function planState(path: string, output: string, kind: ExportKind): Promise<StatePlan> {
  const read = await readState(path);
  const outputPath = resolve(output);
  if (read !== undefined && !read.done) {
    checkSameExport(path, read, outputPath, kind);
    checkSameAccount(path, read.account, kind.account);
    const continueAtBytes = read.cursor === undefined ? undefined : read.outputBytes;
    const start = { format: read.format, cursor: read.cursor, written: read.written, continueAtBytes };
    // A state an older version wrote records this run's account from now on.
    const claimed = read.account === undefined ? { ...read, account: kind.account } : undefined;
    return { path, read, fresh: claimed, start };
  }
  const now = new Date().toISOString();
  const fresh: ExportState = {
    version: 1,
    output: outputPath,
    format: kind.format ?? kind.defaultFormat,
    list: kind.list,
    withInfo: kind.withInfo,
    account: kind.account,
    cursor: undefined,
    written: 0,
    outputBytes: 0,
    total: undefined,
    startedAt: now,
    updatedAt: now,
    done: false,
  };
  return { path, read, fresh, start: { format: fresh.format, cursor: undefined, written: 0, continueAtBytes: undefined } };
}

/** An unfinished state goes on only into the same output, format, list and kind of rows. */
function checkSameExport(path: string, previous: ExportState, outputPath: string, kind: ExportKind): void {
  if (!samePath(previous.output, outputPath)) {
    throw usageError(
      `The state file ${escapeText(path)} belongs to an unfinished export into ${shown(previous.output)}, not ${escapeText(outputPath)}. Use another --state file, or finish that export first.`,
    );
  }
  if (kind.format !== undefined && kind.format !== previous.format) {
    throw usageError(
      `The state file ${escapeText(path)} belongs to an unfinished ${previous.format} export; --format ${kind.format} would mix two formats in ${shown(previous.output)}.`,
    );
  }
  const previousList = previous.list ?? 'follower list';
  if (previousList !== kind.list || (previous.withInfo ?? false) !== kind.withInfo) {
    const what = (list: string, withInfo: boolean): string => `the ${list}${withInfo ? ' with details' : ''}`;
    throw usageError(
      `The state file ${escapeText(path)} belongs to an unfinished export of ${what(shown(previousList), previous.withInfo ?? false)}, not of ${what(kind.list, kind.withInfo)}. Run the command that started it, or use another --state file.`,
    );
  }
}

/**
 * Before any call: an unfinished export goes on under the account it started with only (another
 * account's list would not know the cursor, and its rows would join the file).
 */
function checkSameAccount(path: string, recorded: AccountId | undefined, account: AccountId): void {
  if (recorded === undefined || sameAccount(recorded, account)) return;
  const tokenOnly = 'appid' in recorded && 'tokenFrom' in account;
  const hint = tokenOnly ? ` If this run's token is that account's, give --appid ${shown(recorded.appid)} as well.` : '';
  throw usageError(
    `The state file ${escapeText(path)} belongs to an unfinished export of ${accountName(recorded)}, and this run is for ${accountName(account)}. Run it under the account it started with, or give this export another --state file.${hint}`,
  );
}

function sameAccount(first: AccountId, second: AccountId): boolean {
  if ('appid' in first) return 'appid' in second && first.appid === second.appid;
  return 'tokenFrom' in second && first.tokenFrom === second.tokenFrom;
}

/** An account as messages name it: by AppID, or (never by its token) by where the token came from. */
function accountName(account: AccountId): string {
  if ('appid' in account) return `the account with AppID ${shown(account.appid)}`;
  return `an account known only by its access token, from ${shown(account.tokenFrom)}`;
}

export class Checkpoint {
  readonly start: StartingPoint;
  readonly #path: string;
  #state: ExportState;
  readonly #lock: FileLock;

  private constructor(path: string, state: ExportState, start: StartingPoint, lock: FileLock) {
    this.#path = path;
    this.#state = state;
    this.start = start;
    this.#lock = lock;
  }

  /**
   * Locks the state file (before any request), checks that it is still what the plan read (another
   * run may have finished in between), and writes a fresh export's first state.
   */
  static async take(plan: StatePlan): Promise<Checkpoint> {
    const lockPath = `${plan.path}.lock`;
    const lock = await FileLock.take(
      lockPath,
      (owner) => `Another run (${lockHolder(owner)}) is using this state file; ${escapeText(lockPath)} is its lock. Let it finish.`,
    );
    try {
      const now = await readState(plan.path);
      if (JSON.stringify(now) !== JSON.stringify(plan.read)) {
        throw new WxError(
          `The state file ${escapeText(plan.path)} changed while this run was starting (another run wrote it). Run the same command again.`,
          ExitCode.Failure,
        );
      }
      const state = plan.fresh ?? plan.read;
      if (state === undefined) throw new Error('A state plan holds a state to continue or a fresh one.');
      const checkpoint = new Checkpoint(plan.path, state, plan.start, lock);
      if (plan.fresh !== undefined) await checkpoint.#write();
      return checkpoint;
    } catch (error) {
      await lock.release();
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
    await this.#lock.release();
  }

  /** On the way out of a process that ends at once (a second Ctrl-C). */
  releaseNow(): void {
    this.#lock.releaseNow();
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
      throw new WxError(
        `Could not write the state file ${escapeText(this.#path)}: ${escapeText((error as Error).message)}.`,
        ExitCode.Failure,
        {
          cause: error,
        },
      );
    }
  }
}

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

async function readState(path: string): Promise<ExportState | undefined> {
  let text: string;
  try {
    // Read through O_NOFOLLOW: a symlink here would have the state renamed over the link.
    text = await fs.readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | O_NOFOLLOW });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw usageError(
        `The state file ${escapeText(path)} is a symbolic link; it is left as it is. Point --state at the file itself, or remove the link.`,
      );
    }
    throw new WxError(`Could not read the state file ${escapeText(path)}: ${escapeText((error as Error).message)}.`, ExitCode.Failure, {
      cause: error,
    });
  }
  const corrupt = (why: string): WxError =>
    usageError(
      `The state file ${escapeText(path)} is not a wx-followers state (${why}). Remove it to start a fresh export, or point --state elsewhere.`,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof json !== 'object' || json === null) throw corrupt('not an object');
  const state = json as Record<string, unknown>;
  const { version, output, format, list, withInfo, account, cursor, written, outputBytes, total, startedAt, updatedAt, done } = state;
  if (version !== 1) throw corrupt('unknown version');
  if (typeof output !== 'string' || typeof format !== 'string' || !isFormatName(format)) throw corrupt('no output or format');
  if (cursor !== undefined && (typeof cursor !== 'string' || !isOpenidShape(cursor))) throw corrupt('bad cursor');
  // Counts a run adds to and a file is cut at: whole numbers, 0 or more (a hand edit may say -5).
  if (!isCount(written) || !isCount(outputBytes) || typeof done !== 'boolean') throw corrupt('bad counts');
  if (total !== undefined && !isCount(total)) throw corrupt('bad total');
  if (list !== undefined && typeof list !== 'string') throw corrupt('bad list');
  if (withInfo !== undefined && typeof withInfo !== 'boolean') throw corrupt('bad withInfo');
  if (typeof startedAt !== 'string' || typeof updatedAt !== 'string') throw corrupt('bad times');
  if (account !== undefined && !isAccountId(account)) throw corrupt('bad account');
  return { version, output, format, list, withInfo, account, cursor, written, outputBytes, total, startedAt, updatedAt, done };
}

function isAccountId(value: unknown): value is AccountId {
  if (typeof value !== 'object' || value === null) return false;
  const { appid, tokenFrom } = value as Record<string, unknown>;
  return (typeof appid === 'string') !== (typeof tokenFrom === 'string');
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
