/**
 * An output of a command that reads or writes the follower database (changes -o, sync --summary)
 * must not be the database, nor a journal SQLite keeps beside it: writing the report there would
 * replace the database (the output's rename) or corrupt it (a journal overwritten). Checked in the
 * plan, before anything is written.
 */
import { promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { escapeText, usageError } from '../errors.js';
import { outputLockPathOf, setAsidePathOf } from '../out/output.js';
import { samePath } from '../out/platform-fs.js';
import type { OutputPlan } from './export-files.js';

/** A SQLite database, as the plan names it. */
export interface DatabaseFile {
  readonly engine: 'sqlite' | 'postgres';
  readonly target: string;
  readonly origin: string;
}

/** A file the command would write: `flag` and `given` name it for the message (`-o week.txt`). */
export interface PlannedWrite {
  readonly flag: string;
  readonly given: string;
  /** The file written: the path given, or one the tool makes from it (FILE.partial). */
  readonly path: string;
}

/** The files of a SQLite database: the file itself, and the journals SQLite keeps beside it under its name. */
function databaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`];
}

/** What -o makes and replaces: the file, FILE.partial, its lock, and where an earlier FILE.partial is set aside. */
export function outputWrites(output: OutputPlan, flag: string): PlannedWrite[] {
  if (output.kind === 'stdout') return [];
  const given = output.path;
  if (output.kind === 'special') return [{ flag, given, path: given }];
  const { partialPath } = output;
  return [given, partialPath, outputLockPathOf(partialPath), setAsidePathOf(partialPath)].map((path) => ({ flag, given, path }));
}

/**
 * Exit 2 when a planned write is the database or one of its journals: the same file (device and
 * inode) when both are there, else the same path once its folder's links are resolved.
 */
export async function refuseWritesOverDatabase(database: DatabaseFile, writes: readonly PlannedWrite[]): Promise<void> {
  if (database.engine !== 'sqlite') return;
  for (const write of writes) {
    for (const file of databaseFiles(database.target)) {
      if (!(await sameFile(write.path, file))) continue;
      const via = write.path === write.given ? '' : ` (through ${escapeText(write.path)})`;
      const what = file === database.target ? 'the database' : `${escapeText(file)}, a journal SQLite keeps beside the database`;
      throw usageError(
        `${write.flag} ${escapeText(write.given)}${via} would write over ${what} ${escapeText(database.target)} (${database.origin}), ` +
          `destroying it. Give ${write.flag} another file.`,
      );
    }
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [first, second] = await Promise.all([statOrUndefined(a), statOrUndefined(b)]);
  if (first !== undefined && second !== undefined) return first.dev === second.dev && first.ino === second.ino;
  return samePath(await canonical(a), await canonical(b));
}

/** The absolute path with its folder's links resolved: `link/f.db` and `real/f.db` are one name. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return join(await fs.realpath(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}
