import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { exportShapeOf, readExport } from './export-file.js';
import type { FormatName } from './formats.js';
import { OPENID_CHARACTERS } from '../openid.js';

/** What an earlier run left in a file: which export it is, and the OpenID it ends with. */
export interface FileEnd {
  /** Undefined for an empty file, or one whose first line is no export's. */
  kind: ExportFileKind | undefined;
  /** Undefined when the file holds no whole record at its end (empty, cut in a line, not an export). */
  lastOpenid: string | undefined;
  /** Whether its first or last line ends with '\r\n' (an editor on Windows saved it): exports end lines with '\n'. */
  crlf: boolean;
}

export interface ExportFileKind {
  format: FormatName;
  withInfo: boolean;
}

/** Far more than a record of OpenIDs; a CSV with details is read whole (its remarks may span lines). */
const TAIL_BYTES = 64 * 1024;
const PLAIN_NDJSON = new RegExp(`^\\{"openid":"[${OPENID_CHARACTERS}]+"\\}$`);

/**
 * Reads the first line and the last record of an export file, with the parser diff uses. A text,
 * NDJSON or OpenID CSV file is read at its tail only: each of its records is one line. A CSV with
 * details is read whole, since a quoted remark may hold line breaks and only the start tells
 * which quote opens a field. With `length`, only the file's first `length` bytes are read.
 */
export async function readFileEnd(path: string, length?: number): Promise<FileEnd> {
  // Read only: a link is followed here (FILE may be one); FILE.partial links are refused before (export-plan).
  const handle = await fs.open(path, constants.O_RDONLY);
  try {
    // With a length, the file as if cut there: what a --state run keeps of FILE.partial.
    const size = Math.min((await handle.stat()).size, length ?? Number.POSITIVE_INFINITY);
    if (size === 0) return { kind: undefined, lastOpenid: undefined, crlf: false };
    const head = await readAt(handle, 0, Math.min(size, TAIL_BYTES));
    const firstNewline = head.indexOf(0x0a);
    if (firstNewline < 0) return { kind: undefined, lastOpenid: undefined, crlf: false };
    const lastTwo = await readAt(handle, Math.max(0, size - 2), Math.min(size, 2));
    const crlf = head[firstNewline - 1] === 0x0d || (lastTwo.length === 2 && lastTwo[0] === 0x0d && lastTwo[1] === 0x0a);
    return { ...(await readRecords(handle, head, size, path)), crlf };
  } finally {
    await handle.close();
  }
}

/** The kind and the last record of the file's first `size` bytes; `head` is its start. */
async function readRecords(handle: FileHandle, head: Buffer, size: number, path: string): Promise<Omit<FileEnd, 'crlf'>> {
  const firstNewline = head.indexOf(0x0a);
  const firstLine = head
    .toString('utf8', 0, firstNewline)
    .replace(/\r$/, '')
    .replace(/^\uFEFF/, '');
  const kind = kindOf(firstLine);
  if (kind === undefined) return { kind, lastOpenid: undefined };
  const last = await readAt(handle, size - 1, 1);
  if (last[0] !== 0x0a) return { kind, lastOpenid: undefined };
  if (kind.format === 'csv' && kind.withInfo)
    return { kind, lastOpenid: await lastOf(handle.createReadStream({ start: 0, end: size - 1, autoClose: false }), path) };
  const start = Math.max(0, size - TAIL_BYTES);
  let tail = await readAt(handle, start, size - start);
  if (start > 0) {
    const lineStart = tail.indexOf(0x0a) + 1;
    if (lineStart === 0 || lineStart === tail.length) return { kind, lastOpenid: undefined };
    tail = tail.subarray(lineStart);
    // The parser learns a CSV's columns from its header.
    if (kind.format === 'csv') tail = Buffer.concat([Buffer.from(`${firstLine}\n`), tail]);
  }
  return { kind, lastOpenid: await lastOf([tail], path) };
}

function kindOf(firstLine: string): ExportFileKind | undefined {
  const shape = exportShapeOf(firstLine);
  if (shape.format === 'csv') return { format: 'csv', withInfo: shape.columns.length > 1 };
  if (shape.format === 'text') return { format: 'text', withInfo: false };
  if (PLAIN_NDJSON.test(firstLine)) return { format: 'ndjson', withInfo: false };
  try {
    const record: unknown = JSON.parse(firstLine);
    if (typeof record !== 'object' || record === null || !('openid' in record)) return undefined;
    return { format: 'ndjson', withInfo: Object.keys(record).length > 1 };
  } catch {
    return undefined;
  }
}

async function lastOf(input: AsyncIterable<Buffer> | Iterable<Buffer>, name: string): Promise<string | undefined> {
  let last: string | undefined;
  try {
    for await (const batch of readExport(toAsync(input), name)) {
      const { bytes, bounds } = batch;
      if (bounds.length > 0) last = bytes.toString('latin1', bounds[bounds.length - 2], bounds[bounds.length - 1]);
    }
  } catch {
    // Not a whole export at its end: no cursor to continue from.
    return undefined;
  }
  return last;
}

async function* toAsync(input: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of input) yield chunk;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}
