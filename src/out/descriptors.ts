import { fstatSync, promises as fs } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { usageError, escapeText } from '../errors.js';

/** How many links a path to a descriptor may go through (/dev/stdout -> /proc/self/fd/1). */
const MAX_LINK_HOPS = 8;
/** The folder of this process's descriptors, as realpath gives /dev/fd and /proc/self/fd on Linux. */
const PROC_FD_FOLDER = /^\/proc\/(\d+)\/fd$/;

/**
 * The descriptor of this process that a path names (/dev/fd/7, /proc/self/fd/7, /dev/stdout),
 * or undefined for any other path. Told by the folder the name ends in, not by the file it leads
 * to: /dev/fd/7 of a descriptor that is not open leads nowhere, and is still descriptor 7.
 * Windows has no such paths.
 */
export async function descriptorNamed(path: string, platform: NodeJS.Platform = process.platform): Promise<number | undefined> {
  if (platform === 'win32') return undefined;
  let current = resolve(path);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops += 1) {
    const folder = await fs.realpath(dirname(current)).catch(() => undefined);
    const name = basename(current);
    if (folder !== undefined && isOwnDescriptorFolder(folder) && /^\d{1,9}$/.test(name)) return Number(name);
    const target = await fs.readlink(current).catch(() => undefined);
    if (target === undefined) return undefined;
    current = resolve(dirname(current), target);
  }
  return undefined;
}

function isOwnDescriptorFolder(folder: string): boolean {
  const proc = PROC_FD_FOLDER.exec(folder);
  if (proc !== null) return Number(proc[1]) === process.pid;
  // macOS and the BSDs: a file system of its own, always this process's.
  return folder === '/dev/fd';
}

/**
 * `-o /dev/fd/N` is written only to a descriptor that this run was handed. Node opens
 * descriptors of its own from 3 on before any of this code runs (on Linux, Node 20 to 26:
 * epoll, io_uring and eventfd descriptors, pipes whose both ends it holds, for the event loop
 * and its thread pool, and /dev/null for reading). A descriptor the shell did not open (a
 * forgotten `7>file`) is free, or is one of those: written to, the data goes nowhere, the loop
 * hangs or the process crashes. So: 0 to 2 are always the run's (Node opens /dev/null on any
 * that is closed); above them, the descriptor must be open and not one of the kinds Node makes
 * for itself: an event descriptor (anon_inode), one open for reading only, or a pipe whose
 * reading end this process holds. Where /proc is not (macOS), the kind comes from fstat, and a
 * pipe there cannot be told from Node's own: only a file, a device or a socket is taken.
 */
export async function checkDescriptorOutput(path: string, fd: number): Promise<void> {
  if (fd === 2) {
    // Opened again, stderr would be written at an offset of its own, over the tool's own messages
    // (and they over the rows): `2>file` would lose OpenIDs.
    throw usageError(
      `--output ${escapeText(path)} is stderr, where the tool's own messages go: the two would write over each other. Give a file name, or another descriptor (-o /dev/fd/3 3>FILE).`,
    );
  }
  if (fd <= 2) return;
  const hasProc = await fs.stat(PROC_SELF_FD).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  const problem = hasProc ? await problemOnLinux(fd) : problemByFstat(fd);
  if (problem === undefined) return;
  const given = escapeText(path);
  throw usageError(
    `--output ${given} names descriptor ${fd}, ${describeProblem(problem)}. A forgotten ${fd}>FILE? Open it in the shell (wx-followers export -o ${given} ${fd}>FILE), or give a file name.`,
  );
}

function describeProblem(problem: Problem): string {
  switch (problem.kind) {
    case 'not open':
      return 'which is not open: the shell did not open it for this run';
    case 'own':
      return `which the shell did not hand over: it is one of the process's own (${problem.what}), and what is written there goes nowhere`;
    case 'read-only':
      return `which is open for reading only (${problem.what}): one of the process's own, or an input`;
    case 'unsure':
      return `which is ${problem.what}: on this system that cannot be told from the process's own descriptors`;
  }
}

const PROC_SELF_FD = '/proc/self/fd';

type Problem = { kind: 'not open' } | { kind: 'own' | 'read-only' | 'unsure'; what: string };

/** Undefined when the descriptor may be written. */
async function problemOnLinux(fd: number): Promise<Problem | undefined> {
  const target = await fs.readlink(`${PROC_SELF_FD}/${fd}`).catch(() => undefined);
  if (target === undefined) return { kind: 'not open' };
  if (target.startsWith('anon_inode:')) return { kind: 'own', what: `an event descriptor, ${escapeText(target)}` };
  // libuv keeps /dev/null open for reading (its reserve for running out of descriptors), and
  // holds the reading end of its wake-up pipes; a shell's N<FILE is no output either.
  if (await isReadOnly(String(fd))) return { kind: 'read-only', what: escapeText(target) };
  if (!target.startsWith('pipe:')) return undefined;
  // A pipe handed over by the shell (`7> >(gzip > x)`) is read by another process; one whose
  // reading end is here too is a wake-up pipe of Node's own.
  for (const other of await fs.readdir(PROC_SELF_FD).catch(() => [])) {
    const sameTarget = (await fs.readlink(`${PROC_SELF_FD}/${other}`).catch(() => undefined)) === target;
    if (sameTarget && (await isReadOnly(other))) return { kind: 'own', what: `a pipe whose reading end it holds, ${escapeText(target)}` };
  }
  return undefined;
}

/** Whether a descriptor is open for reading only (its access mode, in /proc/self/fdinfo). */
async function isReadOnly(fd: string): Promise<boolean> {
  const info = await fs.readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
  const flags = /^flags:\s*([0-7]+)$/m.exec(info)?.[1];
  // O_ACCMODE is 3, and O_RDONLY 0.
  return flags !== undefined && (Number.parseInt(flags, 8) & 3) === 0;
}

function problemByFstat(fd: number): Problem | undefined {
  let stats: ReturnType<typeof fstatSync>;
  try {
    stats = fstatSync(fd);
  } catch {
    return { kind: 'not open' };
  }
  if (stats.isFile() || stats.isCharacterDevice() || stats.isSocket()) return undefined;
  return { kind: 'unsure', what: stats.isFIFO() ? 'a pipe' : 'not a file, a device or a socket' };
}
