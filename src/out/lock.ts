import { randomUUID } from 'node:crypto';
import { promises as fs, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, WxError, escapeText, usageError } from '../errors.js';
import { CREATE_EXCLUSIVE } from './platform-fs.js';

/** A lock file without an owner in it is being written for this long at most; older, it was left by a crash. */
const BEING_WRITTEN_MS = 2_000;
const LOCK_POLL_MS = 5;

/** A lock older than this from another host is taken to be left by a crash. */
const FOREIGN_LOCK_EXPIRY_MS = 24 * 60 * 60 * 1000;

export interface LockOwner {
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

/**
 * A lock file that one run at a time holds (the state file's, the output's): created with O_EXCL,
 * it records the pid, host, start time and a nonce; one left by a run that crashed is taken over.
 */
export class FileLock {
  readonly path: string;
  readonly #nonce: string;
  #released = false;

  private constructor(path: string, nonce: string) {
    this.path = path;
    this.#nonce = nonce;
  }

  /** `busy` says, for a person, what the live owner is doing and what to do. */
  static async take(path: string, busy: (owner: LockOwner) => string): Promise<FileLock> {
    return FileLock.takeWaiting(path, busy, 0);
  }

  /**
   * As `take`, but a lock held by a live run is waited on for up to `waitMs` (the config file's,
   * held for the few milliseconds of one write), looking again every few milliseconds.
   */
  static async takeWaiting(path: string, busy: (owner: LockOwner) => string, waitMs: number): Promise<FileLock> {
    const startedAt = Date.now();
    let takeovers = 0;
    for (;;) {
      const attempt = await FileLock.#attempt(path);
      if (attempt instanceof FileLock) return attempt;
      if (attempt === 'gone') continue;
      if (attempt === 'stale') {
        // Left by a run that crashed or was killed: taken over, once; another run keeps taking it otherwise.
        takeovers += 1;
        if (takeovers > 1) throw new WxError(`Could not lock ${escapeText(path)}: another run keeps taking it.`, ExitCode.Failure);
        await fs.rm(path, { force: true });
        continue;
      }
      // A lock being written turns stale once it is BEING_WRITTEN_MS old: waited on until then.
      const waited = Date.now() - startedAt;
      if (attempt !== 'being written' && waited >= waitMs) throw new WxError(busy(attempt), ExitCode.Failure);
      await sleep(LOCK_POLL_MS + Math.random() * LOCK_POLL_MS);
    }
  }

  /** This run's lock; or, when another one was there, its live owner, or what became of it. */
  static async #attempt(path: string): Promise<FileLock | LockOwner | 'gone' | 'being written' | 'stale'> {
    try {
      const handle = await fs.open(path, CREATE_EXCLUSIVE, 0o644);
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
      return new FileLock(path, owner.nonce as string);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new WxError(`Could not lock ${escapeText(path)}: ${escapeText((error as Error).message)}.`, ExitCode.Failure, {
          cause: error,
        });
      }
    }
    // Something planted where the lock goes (a folder): no run's lock, and nothing to remove unasked.
    const planted = await fs.lstat(path).catch(() => undefined);
    if (planted?.isDirectory() === true) {
      throw usageError(`${escapeText(path)} is a folder, where this run's lock goes; it is left as it is. Remove it, and run again.`);
    }
    const owner = await readLock(path);
    if (owner !== undefined) return (await isAlive(owner)) ? owner : 'stale';
    // Gone: its owner released it since, and the next attempt may take it. Created and not yet
    // written: a run is taking it this very moment, and it is not to be taken over.
    const age = await lockAge(path);
    if (age === undefined) return 'gone';
    return age < BEING_WRITTEN_MS ? 'being written' : 'stale';
  }

  /** Removes the lock if it is still this run's: another run may have judged it stale and taken it. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const owner = await readLock(this.path);
    if (owner !== undefined && owner.nonce !== undefined && owner.nonce !== this.#nonce) return;
    await fs.rm(this.path, { force: true });
  }

  /** On the way out of a process that ends at once (a second Ctrl-C): no time to read whose it is. */
  releaseNow(): void {
    if (this.#released) return;
    this.#released = true;
    rmSync(this.path, { force: true });
  }
}

/** "pid 123 on host, since 2026-...": who holds a lock, as a message names it. */
export function lockHolder(owner: LockOwner): string {
  return `pid ${owner.pid} on ${escapeText(owner.host)}, since ${new Date(owner.since).toISOString()}`;
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

/** How long ago the lock file was written; undefined when it is gone. */
async function lockAge(lockPath: string): Promise<number | undefined> {
  try {
    return Date.now() - (await fs.stat(lockPath)).mtimeMs;
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
