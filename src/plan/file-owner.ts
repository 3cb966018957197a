import { promises as fs, type Stats } from 'node:fs';
import { escapeText } from '../errors.js';

/**
 * What a user can do about a file of theirs the run cannot write: make it writable (chmod u+w).
 * Another user's (root's, a service account's) only its owner can change, so the advice names
 * the owner instead. `me` is this process's uid; null on Windows, which has no uids.
 */
export async function makeWritableAdvice(path: string, stats: Pick<Stats, 'uid'>, me = process.getuid?.() ?? null): Promise<string> {
  if (me === null) return "Make it writable (clear Read-only in the file's Properties)";
  if (stats.uid === me) return `Make it writable (chmod u+w ${escapeText(path)})`;
  return `It belongs to ${await ownerOf(stats.uid)}, not to this user: ask its owner (or an administrator) to make it writable for you, or run as its owner`;
}

/** The user's name from /etc/passwd beside the uid, where there is one (a directory service's users show as the uid alone). */
async function ownerOf(uid: number): Promise<string> {
  let passwd: string;
  try {
    passwd = await fs.readFile('/etc/passwd', 'utf8');
  } catch {
    return `uid ${uid}`;
  }
  for (const line of passwd.split('\n')) {
    const [name, , id] = line.split(':');
    if (id === String(uid) && name !== undefined && name !== '') return `${escapeText(name)} (uid ${uid})`;
  }
  return `uid ${uid}`;
}
