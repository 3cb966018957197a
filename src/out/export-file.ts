import { isUtf8 } from 'node:buffer';
import { usageError, type WxError, escapeText, shown } from '../errors.js';
import { isOpenidShape, OPENID_CHARACTERS } from '../openid.js';

/**
 * OpenIDs as bytes: the i-th is `bytes[bounds[2i]]` up to `bytes[bounds[2i + 1]]`. A text export is
 * read this way without a string per line (five million of them cost seconds); OpenIDs are ASCII.
 */
export interface OpenidBatch {
  bytes: Buffer;
  bounds: number[];
  /** How much of the input these OpenIDs were read from. */
  inputBytes: number;
}

/** Letters, digits, '-' and '_': what an OpenID is made of. */
const OPENID_BYTE = new Uint8Array(256);
for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') OPENID_BYTE[character.charCodeAt(0)] = 1;
const NEWLINE = 0x0a;
const MAX_LINE_BYTES = 1 << 20;
const CARRIAGE_RETURN = 0x0d;

/** A cell that --with-info's formula guard prefixed with a quote. */
const GUARDED = /^'[=+\-@\t\r]/;
/** The NDJSON that export writes without details: read without JSON.parse. */
const PLAIN_NDJSON = new RegExp(`^\\{"openid":"([${OPENID_CHARACTERS}]+)"\\}$`);

/**
 * Reads an export written by wx-followers: text, CSV with an `openid` column (with or without
 * details), or NDJSON with an `openid` field, detected from the first line that is not blank.
 * Blank lines are skipped. Anything else is a usage error naming the input and the line; so is
 * an input with no line at all unless `allowEmpty` (see LineReader.end).
 */
export async function* readExport(
  input: AsyncIterable<Buffer>,
  name: string,
  options: { allowEmpty?: boolean } = {},
): AsyncGenerator<OpenidBatch> {
  const reader = new LineReader(name);
  let rest: Buffer | undefined;
  for await (const chunk of input) {
    // Before its lines are parsed: no export holds a NUL byte, and a binary file's first "line" would be blamed on its own.
    if (chunk.includes(0)) reader.notText('it holds NUL bytes');
    const bytes = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    rest = end < bytes.length ? bytes.subarray(end) : undefined;
    // No line of an export comes near this; without a limit, a file with no line breaks would be copied again for every chunk.
    if (rest !== undefined && rest.length > MAX_LINE_BYTES) reader.lineTooLong(bytes, end);
    const batch = reader.lines(bytes, end);
    if (batch.bounds.length > 0) yield batch;
  }
  if (rest !== undefined) {
    if (!isUtf8(rest)) reader.notText('it is not UTF-8');
    // Every export ends its last line with '\n': a file without one was cut off (a run killed, a copy cut short).
    reader.cutOff("its last line does not end with a line break, as every export's does");
  }
  reader.end(options.allowEmpty === true);
}

class LineReader {
  readonly #name: string;
  #format: 'text' | 'csv' | 'ndjson' | undefined;
  #column = 0;
  #lineNumber = 0;
  /** A CSV record whose quoted field goes on over a line break. */
  #open: { text: string; startLine: number } | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** The OpenIDs of the whole lines in `bytes` up to `end` (just after a '\n'). */
  lines(bytes: Buffer, end: number): OpenidBatch {
    const bounds: number[] = [];
    const found: string[] = [];
    for (let start = 0; start < end; ) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (this.#format === 'text' && this.#open === undefined) {
        let stop = newline;
        if (stop > start && bytes[stop - 1] === CARRIAGE_RETURN) stop -= 1;
        this.#lineNumber += 1;
        if (isOpenidBytes(bytes, start, stop)) bounds.push(start, stop);
        else if (bytes.toString('utf8', start, stop).trim() !== '') {
          throw this.#notAnExport(this.#lineNumber, `'${preview(bytes.toString('utf8', start, stop))}' is not an OpenID`);
        }
      } else {
        const openid = this.line(bytes.toString('utf8', start, newline));
        if (openid === undefined) {
          // A blank line, a header, or a CSV record that goes on.
        } else if (this.#format === 'text') {
          // Detected as text just now: the line is the OpenID, after a BOM, before a '\r'.
          const stop = bytes[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
          bounds.push(stop - openid.length, stop);
        } else {
          found.push(openid);
        }
      }
      start = newline + 1;
    }
    if (found.length === 0) return { bytes, bounds, inputBytes: end };
    // CSV and NDJSON give strings; their OpenIDs go after the chunk's bytes, in one buffer of their own.
    const own = Buffer.from(found.join(''), 'latin1');
    let at = 0;
    const ownBounds: number[] = [];
    for (const openid of found) {
      ownBounds.push(at, at + openid.length);
      at += openid.length;
    }
    return { bytes: own, bounds: ownBounds, inputBytes: end };
  }

  /** The OpenID of this line, or undefined for a blank line, a header or a record not yet ended. */
  line(raw: string): string | undefined {
    this.#lineNumber += 1;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.#open !== undefined) {
      this.#open.text += `\n${line}`;
      // The parity of the quotes so far: the record ends on the line that makes it even.
      if (quoteCount(line) % 2 === 0) {
        if (this.#open.text.length > MAX_LINE_BYTES) throw this.#notAnExport(this.#open.startLine, 'a quoted CSV field that never ends');
        return undefined;
      }
      const { text, startLine } = this.#open;
      this.#open = undefined;
      return this.#csvRecord(text, startLine);
    }
    if (this.#lineNumber === 1) line = line.replace(/^\uFEFF/, '');
    if (line.trim() === '') return undefined;
    switch (this.#format) {
      case 'text':
        return this.#openid(line, this.#lineNumber);
      case 'csv':
        if (line.includes('"') && quoteCount(line) % 2 === 1) {
          this.#open = { text: line, startLine: this.#lineNumber };
          return undefined;
        }
        return this.#csvRecord(line, this.#lineNumber);
      case 'ndjson':
        return this.#ndjson(line);
      case undefined:
        return this.#first(line);
    }
  }

  /** Throws for the line after the whole lines of `bytes` up to `end`, which is too long. */
  lineTooLong(bytes: Buffer, end: number): never {
    this.lines(bytes, end);
    throw this.#notAnExport(this.#lineNumber + 1, `a line longer than ${MAX_LINE_BYTES / (1 << 20)} MiB`);
  }

  /**
   * An input with no line of an export (0 bytes, or blank lines only) is most often what a failed
   * `export > FILE` left, since the shell creates FILE first; taken for a list it would report
   * every follower as gone (or come). A text or NDJSON export of a list with no one in it is
   * empty too: `allowEmpty` (diff --allow-empty) says so. A CSV export always has its header.
   */
  end(allowEmpty: boolean): void {
    if (this.#open !== undefined) this.cutOff(`line ${this.#open.startLine} opens a quoted CSV field that never ends`);
    if (this.#format === undefined && !allowEmpty) {
      throw usageError(
        `${escapeText(this.#name)} is empty, and an export that failed (\`export > FILE\` creates FILE before the run) leaves it so: diff would report every follower as gone. Export again. If the list really had no one in it (a text or NDJSON export of no one is empty), give --allow-empty.`,
      );
    }
  }

  notText(why: string): never {
    throw usageError(
      `${escapeText(this.#name)} is not an export: it is not text (${why}). diff reads the text, CSV or NDJSON that export writes.`,
    );
  }

  cutOff(why: string): never {
    throw usageError(`${escapeText(this.#name)} looks cut off: ${why}. Export it again, or give diff a whole export.`);
  }

  #first(line: string): string | undefined {
    const shape = exportShapeOf(line);
    this.#format = shape.format;
    if (shape.format === 'ndjson') return this.#ndjson(line);
    if (shape.format === 'csv') {
      this.#column = shape.columns.indexOf('openid');
      return undefined;
    }
    return this.#openid(line, this.#lineNumber);
  }

  #csvRecord(record: string, lineNumber: number): string {
    const cells = record.includes('"') ? splitCsv(record) : record.split(',', this.#column + 1);
    const cell = cells[this.#column];
    if (cell === undefined) throw this.#notAnExport(lineNumber, `no column ${this.#column + 1}, the header's openid`);
    // Undoes --with-info's formula guard: an OpenID that starts with '-' was written '-...
    return this.#openid(GUARDED.test(cell) ? cell.slice(1) : cell, lineNumber);
  }

  #ndjson(line: string): string {
    const plain = PLAIN_NDJSON.exec(line);
    if (plain?.[1] !== undefined) return plain[1];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw this.#notAnExport(this.#lineNumber, 'not JSON');
    }
    const openid = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['openid'] : undefined;
    if (typeof openid !== 'string') throw this.#notAnExport(this.#lineNumber, 'no `openid` field');
    return this.#openid(openid, this.#lineNumber);
  }

  #openid(value: string, lineNumber: number): string {
    if (!isOpenidShape(value)) throw this.#notAnExport(lineNumber, `'${preview(value)}' is not an OpenID`);
    return value;
  }

  #notAnExport(lineNumber: number, why: string): WxError {
    return usageError(
      `${escapeText(this.#name)} line ${lineNumber} is not part of an export: ${why}. diff reads the text, CSV or NDJSON that export writes.`,
    );
  }
}

/** What an export's first line that is not blank says of it: its format, and a CSV's columns. */
export type ExportShape = { format: 'text' | 'ndjson' } | { format: 'csv'; columns: string[] };

export function exportShapeOf(firstLine: string): ExportShape {
  if (firstLine.startsWith('{')) return { format: 'ndjson' };
  const columns = splitCsv(firstLine);
  return columns.includes('openid') ? { format: 'csv', columns } : { format: 'text' };
}

/** The cells of one CSV record (RFC 4180: quoted cells may hold commas, doubled quotes, line breaks). */
function splitCsv(record: string): string[] {
  const cells: string[] = [];
  let position = 0;
  for (;;) {
    if (record[position] !== '"') {
      const comma = record.indexOf(',', position);
      if (comma < 0) return [...cells, record.slice(position)];
      cells.push(record.slice(position, comma));
      position = comma + 1;
      continue;
    }
    let cell = '';
    let at = position + 1;
    for (;;) {
      const quote = record.indexOf('"', at);
      if (quote < 0) return [...cells, cell + record.slice(at)];
      cell += record.slice(at, quote);
      at = quote + 1;
      if (record[at] !== '"') break;
      cell += '"';
      at += 1;
    }
    cells.push(cell);
    const comma = record.indexOf(',', at);
    if (comma < 0) return cells;
    position = comma + 1;
  }
}

function isOpenidBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (end <= start || end - start > 64) return false;
  for (let index = start; index < end; index += 1) if (OPENID_BYTE[bytes[index] as number] !== 1) return false;
  return true;
}

function quoteCount(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at >= 0; at = text.indexOf('"', at + 1)) count += 1;
  return count;
}

/** A line from the input, cut short and escaped: it goes to a terminal. */
function preview(text: string): string {
  return shown(text, 40);
}
