import { constants, ftruncateSync, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { escapeText, ExitCode, WxError, usageError } from '../errors.js';
import { O_NOFOLLOW, isLockedError, renameRetrying } from './platform-fs.js';

/** Where the encoded pages go. */
/** Text, or bytes a caller has encoded already (in a buffer it reuses once the write resolves). */
export type Slice = string | Uint8Array;

export interface Output {
  /** Whether nothing stands in the output yet, so that it needs a header. */
  readonly startsEmpty: boolean;
  /**
   * Writes one page, given in slices; resolves when all of it is handed to the system, so that
   * at most one page waits in memory. A page is written whole or, in a file, not at all.
   */
  write(slices: readonly Slice[]): Promise<void>;
  /** The export is complete: make the output final. */
  finish(): Promise<void>;
  /** The export stopped early: keep what was written, so that a resumed run can go on. */
  abandon(): Promise<void>;
}

/** The reader of stdout went away (`| head -1`): the export ends quietly. */
function readerGone(cause: unknown): WxError {
  return new WxError('The reader of the output went away.', ExitCode.Failure, { cause, silent: true });
}

export class StreamOutput implements Output {
  readonly startsEmpty: boolean;
  readonly #stream: NodeJS.WritableStream;
  #failure: unknown;
  readonly #onError = (error: unknown): void => {
    this.#failure ??= error;
  };

  constructor(stream: NodeJS.WritableStream, startsEmpty: boolean) {
    this.#stream = stream;
    this.startsEmpty = startsEmpty;
    // Without a listener an EPIPE on stdout would crash the process with a stack trace.
    stream.on('error', this.#onError);
  }

  async write(slices: readonly Slice[]): Promise<void> {
    if (this.#failure !== undefined) throw streamFailure(this.#failure);
    await Promise.all(
      slices.map(
        (slice) =>
          new Promise<void>((resolve, reject) => {
            this.#stream.write(slice, (error) => (error ? reject(streamFailure(error)) : resolve()));
          }),
      ),
    );
  }

  async finish(): Promise<void> {
    this.#stream.off('error', this.#onError);
  }

  async abandon(): Promise<void> {
    this.#stream.off('error', this.#onError);
  }
}

function streamFailure(error: unknown): WxError {
  if ((error as NodeJS.ErrnoException).code === 'EPIPE') return readerGone(error);
  return new WxError(`Could not write to stdout: ${escapeText((error as Error).message)}.`, ExitCode.Failure, { cause: error });
}

/**
 * How a file output starts: afresh (an earlier FILE.partial is set aside, never truncated), after
 * a --resume (the plan checked that the file ends with the cursor), or where a --state recorded it.
 */
export type FileOpening = { kind: 'new' } | { kind: 'resume' } | { kind: 'continue'; bytes: number };

/** Where a fresh run put the FILE.partial an earlier run had left. */
export interface SetAside {
  path: string;
  /** An older set-aside file was there and is replaced. */
  replacedOlder: boolean;
}

/**
 * Writes to `FILE.partial` and renames it to `FILE` once complete, so that a failed run never
 * leaves a truncated file where a good one was. FILE.partial is never opened through a link:
 * created with O_EXCL, reopened with O_NOFOLLOW and refused when another name links to it.
 */
export class FileOutput implements Output {
  readonly startsEmpty: boolean;
  /** Set when a fresh run found an earlier FILE.partial and moved it to FILE.partial.prev. */
  readonly setAside: SetAside | undefined;
  readonly #path: string;
  readonly #partialPath: string;
  readonly #handle: FileHandle;
  readonly #createdEmpty: boolean;
  #bytes: number;
  /** Closed and whole: whatever happens to the rename, FILE.partial is the export and stays. */
  #complete = false;

  private constructor(path: string, handle: FileHandle, bytes: number, createdEmpty: boolean, setAside?: SetAside) {
    this.#path = path;
    this.#partialPath = partialPathOf(path);
    this.#handle = handle;
    this.#bytes = bytes;
    this.startsEmpty = bytes === 0;
    this.#createdEmpty = createdEmpty;
    this.setAside = setAside;
  }

  /**
   * `new`: start FILE.partial afresh, after moving an earlier one aside. `resume`: continue the
   * export that `FILE.partial` holds; where there is none but `FILE` is there (an earlier run
   * stopped at --limit), continue a copy of `FILE`. `continue`: cut `FILE.partial` back to what
   * the state file recorded, dropping a page written after it.
   */
  static async open(path: string, opening: FileOpening, planned?: FileIdentity): Promise<FileOutput> {
    const partialPath = partialPathOf(path);
    try {
      if (opening.kind === 'continue') return await FileOutput.#continue(path, opening.bytes, planned);
      if (opening.kind === 'resume') {
        let existed = planned !== undefined;
        // COPYFILE_EXCL: the copy is created, never written through a name planted there.
        if (!existed && (await exists(path))) {
          await fs.copyFile(path, partialPath, constants.COPYFILE_EXCL);
          existed = true;
        }
        const handle = existed ? await openExisting(partialPath) : await createExclusive(partialPath);
        if (planned !== undefined) await checkSameFile(handle, partialPath, planned);
        const { size } = await handle.stat();
        return new FileOutput(path, handle, size, !existed);
      }
      const setAside = await setAsideEarlier(partialPath);
      return new FileOutput(path, await createExclusive(partialPath), 0, true, setAside);
    } catch (error) {
      if (error instanceof WxError) throw error;
      throw fileFailure(partialPath, error);
    }
  }

  /** Cuts FILE.partial back to what the state file recorded, dropping a page written after it. */
  static async #continue(path: string, bytes: number, planned: FileIdentity | undefined): Promise<FileOutput> {
    const partialPath = partialPathOf(path);
    const handle = await openExisting(partialPath).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    const size = handle === undefined ? undefined : (await handle.stat()).size;
    if (handle === undefined || size === undefined || size < bytes) {
      await handle?.close();
      // Checked in the plan; changed since by someone else.
      throw usageError(
        `${escapeText(partialPath)} is ${size === undefined ? 'gone' : 'shorter than the state file records'}, so the export cannot go on from its state. Remove the state file and ${escapeText(partialPath)} to start afresh.`,
      );
    }
    if (planned !== undefined) await checkSameFile(handle, partialPath, planned);
    await handle.truncate(bytes);
    // Positional writes at the end: the file is not opened to append.
    return new FileOutput(path, handle, bytes, false);
  }

  async write(slices: readonly Slice[]): Promise<void> {
    let offset = this.#bytes;
    try {
      for (const slice of slices) {
        const data = typeof slice === 'string' ? Buffer.from(slice, 'utf8') : slice;
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await this.#handle.write(data, done, data.length - done, offset + done);
          done += bytesWritten;
        }
        offset += data.length;
      }
    } catch (error) {
      // Cut the half-written page off again, so that the file ends where the printed cursor does.
      await this.#handle.truncate(this.#bytes).catch(() => undefined);
      throw fileFailure(this.#partialPath, error);
    }
    this.#bytes = offset;
  }

  /**
   * On disk before a state file records the page, so that a crash loses nothing it claims;
   * gives the length of FILE.partial that is now durable.
   */
  async sync(): Promise<number> {
    try {
      await this.#handle.sync();
      return this.#bytes;
    } catch (error) {
      throw fileFailure(this.#partialPath, error);
    }
  }

  /**
   * The process ends now (a second Ctrl-C), maybe in the middle of a page: cut that page off,
   * so that FILE.partial ends with the last OpenID written whole, as the message says.
   */
  cutBackNow(): void {
    if (this.#complete) return;
    try {
      ftruncateSync(this.#handle.fd, this.#bytes);
    } catch {
      // A --resume checks the file's end before it continues it.
    }
  }

  async finish(): Promise<void> {
    try {
      await this.#handle.sync();
      await this.#handle.close();
      this.#complete = true;
      await renameRetrying(this.#partialPath, this.#path);
    } catch (error) {
      if (isLockedError(error)) throw lockedOutput(this.#path, this.#partialPath, error);
      throw fileFailure(this.#path, error);
    }
  }

  async abandon(): Promise<void> {
    if (this.#complete) return;
    await this.#handle.close().catch(() => undefined);
    // A run that failed before its first page leaves no empty file behind.
    if (this.#createdEmpty && this.#bytes === 0) await fs.rm(this.#partialPath, { force: true });
  }
}

/** FILE.partial.lock: one run at a time writes FILE.partial. */
export function outputLockPathOf(partialPath: string): string {
  return `${partialPath}.lock`;
}

export function partialPathOf(path: string): string {
  return `${path}.partial`;
}

/** Where a fresh run moves the FILE.partial an earlier run left: one such file, the latest. */
export function setAsidePathOf(partialPath: string): string {
  return `${partialPath}.prev`;
}

async function setAsideEarlier(partialPath: string): Promise<SetAside | undefined> {
  if (!(await linkExists(partialPath))) return undefined;
  const path = setAsidePathOf(partialPath);
  const replacedOlder = await linkExists(path);
  // A rename moves the name, never what a link planted there points to.
  await renameRetrying(partialPath, path);
  return { path, replacedOlder };
}

/** Which file the plan checked: the run writes into that one, or into none. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The file opened is the one the plan read the end of: not one put in its place since. */
async function checkSameFile(handle: FileHandle, path: string, planned: FileIdentity): Promise<void> {
  const { dev, ino } = await handle.stat();
  if (dev === planned.dev && ino === planned.ino) return;
  await handle.close();
  throw new WxError(
    `${escapeText(path)} was replaced while this run was starting (by another program?); it is left as it is. Run the same command again.`,
    ExitCode.Failure,
  );
}

/** O_EXCL fails on any name already there, a dangling symlink included. */
async function createExclusive(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw usageError(
        `${escapeText(path)} appeared while this run was starting; refusing to write through it. Check who else writes there, remove it and run again.`,
      );
    }
    throw error;
  }
}

/** Opens a file the tool will write into: a symlink or a file with another hard link is refused. */
async function openExisting(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDWR | O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(path, 'is a symbolic link');
    throw error;
  }
  const stats = await handle.stat();
  if (!stats.isFile() || stats.nlink !== 1) {
    await handle.close();
    throw linkRefused(path, stats.isFile() ? 'has another hard link' : 'is not a regular file');
  }
  return handle;
}

export function linkRefused(path: string, what: string): WxError {
  return usageError(
    `${escapeText(path)} ${what}: writing to it would change another file. It is left as it is; remove it (or look into who put it there) and run again.`,
  );
}

/**
 * An output that is not a regular file (a character device, a FIFO, a socket, /dev/stdout):
 * written straight through, never replaced by a rename, and never truncated.
 */
export class SpecialFileOutput implements Output {
  readonly startsEmpty: boolean;
  readonly #path: string;
  readonly #handle: FileHandle;

  private constructor(path: string, handle: FileHandle, startsEmpty: boolean) {
    this.#path = path;
    this.#handle = handle;
    this.startsEmpty = startsEmpty;
  }

  /**
   * Without O_CREAT: if the device went away, nothing is created in its place. A FIFO with no
   * reader would block open() in a thread that no signal stops: it is tried without blocking
   * until a reader comes (`onWait` once), and the wait ends with the signal.
   */
  static async open(path: string, startsEmpty: boolean, wait: { signal: AbortSignal; onWait: () => void }): Promise<SpecialFileOutput> {
    try {
      const probe = (await fs.stat(path)).isFIFO() ? await waitForReader(path, wait.signal, wait.onWait) : undefined;
      try {
        return new SpecialFileOutput(path, await fs.open(path, constants.O_WRONLY | constants.O_APPEND), startsEmpty);
      } finally {
        await probe?.close();
      }
    } catch (error) {
      if (error instanceof WxError) throw error;
      throw fileFailure(path, error);
    }
  }

  async write(slices: readonly Slice[]): Promise<void> {
    try {
      for (const slice of slices) {
        const data = typeof slice === 'string' ? Buffer.from(slice, 'utf8') : slice;
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await this.#handle.write(data, done, data.length - done, null);
          done += bytesWritten;
        }
      }
    } catch (error) {
      // Not quiet, unlike stdout's reader: the person named this pipe, and learns where to go on.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
        throw new WxError(`The reader of ${escapeText(this.#path)} went away.`, ExitCode.Failure, { cause: error });
      }
      throw fileFailure(this.#path, error);
    }
  }

  async finish(): Promise<void> {
    try {
      await this.#handle.close();
    } catch (error) {
      throw fileFailure(this.#path, error);
    }
  }

  async abandon(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

const READER_POLL_MS = 100;

/** Until a FIFO has a reader: O_NONBLOCK opens it at once then, and fails with ENXIO before; gives that probe. */
async function waitForReader(path: string, signal: AbortSignal, onWait: () => void): Promise<FileHandle> {
  for (let waited = false; ; waited = true) {
    if (signal.aborted) throw signal.reason;
    try {
      // Kept open until the blocking open is done: closed before, the reader would see the end of
      // its input (no writer left) and go, and the blocking open would wait for the next.
      return await fs.open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    if (!waited) onWait();
    try {
      await sleep(READER_POLL_MS, undefined, { signal });
    } catch {
      throw signal.reason;
    }
  }
}

/** Whether a name is there, a dangling symlink included. */
async function linkExists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Windows: Excel, say, holds FILE open, so the finished export cannot take its place. */
function lockedOutput(path: string, partialPath: string, error: unknown): WxError {
  const code = (error as NodeJS.ErrnoException).code;
  return new WxError(
    `Could not replace ${escapeText(path)}: it is open in another program, or read-only (${code}). The complete export is in ${escapeText(partialPath)} (kept): close ${escapeText(path)} there (or make it writable), then rename ${escapeText(partialPath)} to ${escapeText(path)}.`,
    ExitCode.Failure,
    { cause: error },
  );
}

function fileFailure(path: string, error: unknown): WxError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' ? 'permission denied' : escapeText((error as Error).message);
  return new WxError(`Could not write ${escapeText(path)}: ${reason}.`, ExitCode.Failure, { cause: error });
}
