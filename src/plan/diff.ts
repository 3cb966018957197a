import { constants, promises as fs } from 'node:fs';
import type { IOStreams } from '../console/streams.js';
import { escapeText, usageError, type WxError } from '../errors.js';
import type { FormatName } from '../out/formats.js';
import { checkBom, parseFormat } from './options.js';
import { refuseClosedStdout } from './stdout.js';

export interface DiffFlags {
  format?: string;
  /** A UTF-8 BOM at the top of a CSV, for Excel. */
  bom?: boolean;
  /** An empty input is an export of no one, not what a failed export left. */
  allowEmpty?: boolean;
}

export interface DiffPlan {
  /** A path, or '-' for stdin (one of the two at most). */
  oldPath: string;
  newPath: string;
  format: FormatName;
  bom: boolean;
  allowEmpty: boolean;
}

/** The two inputs and the output's format, checked before either input is read. */
export async function planDiff(oldPath: string, newPath: string, flags: DiffFlags, io: IOStreams): Promise<DiffPlan> {
  refuseClosedStdout(io, 'the changes');
  const format = parseFormat(flags.format ?? 'text');
  checkBom(flags.bom, format);
  if (oldPath === '-' && newPath === '-') throw usageError('Only one of the two exports can come from stdin (-).');
  await checkInput(oldPath);
  await checkInput(newPath);
  return { oldPath, newPath, format, bom: flags.bom === true, allowEmpty: flags.allowEmpty === true };
}

/** A missing, unreadable or folder input is a usage error found before any work. */
async function checkInput(path: string): Promise<void> {
  if (path === '-') return;
  try {
    const stats = await fs.stat(path);
    if (stats.isDirectory()) throw usageError(`Cannot read ${escapeText(path)}: it is a directory. diff takes two export files.`);
    await fs.access(path, constants.R_OK);
  } catch (error) {
    if (!(error instanceof Error) || !('code' in error)) throw error;
    throw unreadableInput(path, error);
  }
}

/** An input that cannot be opened: found by the plan, or (removed since) by the run that opens it. */
export function unreadableInput(path: string, error: Error): WxError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'is not readable by this user'
        : `cannot be read (${code ?? error.message})`;
  return usageError(
    `${escapeText(path)} ${why}. diff takes two export files, such as the files export -o wrote (or - for one read from stdin).`,
  );
}
