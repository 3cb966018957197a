import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { posix, win32 } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Undefined on Windows, where a link is not followed by open anyway. */
export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** Created, never opened through a name planted there: O_EXCL fails on a symlink, a dangling one too. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;

/**
 * What Windows answers while another program holds a file open (Excel keeps its workbook
 * locked) or a virus scanner or indexer has it for a moment.
 */
const LOCKED_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);

/** How long a rename keeps trying: enough for a scanner, not so long that a person waits on Excel. */
const RENAME_RETRY_MS = 2_000;
const RENAME_MAX_DELAY_MS = 100;

/** Whether the error is Windows saying that another program holds the file. */
export function isLockedError(error: unknown, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32' && LOCKED_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * fs.rename, tried again for a while on Windows when the file is held (as graceful-fs does,
 * 10 ms more each time up to 100 ms); elsewhere these codes are final, so it fails at once.
 */
export async function renameRetrying(from: string, to: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const startedAt = Date.now();
  let delay = 0;
  for (;;) {
    try {
      await fs.rename(from, to);
      return;
    } catch (error) {
      if (!isLockedError(error, platform) || Date.now() - startedAt >= RENAME_RETRY_MS) throw error;
    }
    delay = Math.min(delay + 10, RENAME_MAX_DELAY_MS);
    await sleep(delay);
  }
}

/**
 * Whether two absolute paths name the same file, as the platform's file system compares names
 * by default: case-insensitively on Windows (NTFS) and macOS (APFS, which also ignores the
 * Unicode normalization), exactly elsewhere.
 */
export function samePath(a: string, b: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return win32.normalize(a).toUpperCase() === win32.normalize(b).toUpperCase();
  if (platform === 'darwin') return posix.normalize(a).normalize('NFC').toUpperCase() === posix.normalize(b).normalize('NFC').toUpperCase();
  return a === b;
}

/**
 * Replaces a file's content all at once: a temp file beside it (created with O_EXCL, never
 * through a link, with `mode`), written, fsynced, then renamed over it. A crash leaves the old
 * content or the new, and a link at `path` is replaced, never written through. The caller keeps
 * other writers out (a lock): the temp file's name is only unique, not exclusive of them.
 */
export async function replaceFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    const handle = await fs.open(temp, CREATE_EXCLUSIVE, mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameRetrying(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
