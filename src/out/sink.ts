import type { OpenidPiece } from '../openid.js';
import type { RecordFormat } from './formats.js';
import type { Output, Slice } from './output.js';

/**
 * OpenIDs encoded at once: small enough that the encoded text stays out of V8's large-object
 * space, whose every string is mapped and unmapped on its own (a page of 10,000 as one string
 * doubled the export's system time).
 */
const SLICE = 2_048;

/** The UTF-8 byte order mark: how Excel knows a CSV is UTF-8 and not the system's code page. */
const BOM = '\uFEFF';

export interface SinkOptions {
  /** A BOM before the header: only where the header goes, so never a second one in a continued file. */
  bom?: boolean;
}

/** A format bound to an output: what the export loop writes its pages (or batches) of rows to. */
export class Sink<Row> {
  readonly #format: RecordFormat<Row>;
  readonly #output: Output;
  readonly #bom: boolean;
  #headerPending: boolean;

  constructor(format: RecordFormat<Row>, output: Output, options: SinkOptions = {}) {
    this.#format = format;
    this.#output = output;
    this.#bom = options.bom === true;
    this.#headerPending = output.startsEmpty && format.header !== '';
  }

  /** `pieces`: the rows are OpenIDs, and these are the same in checked pieces (FollowerPage.pieces). */
  async writePage(rows: readonly Row[], pieces?: readonly OpenidPiece[]): Promise<void> {
    const slices: Slice[] = [this.#takeHeader()];
    const { encodePiece } = this.#format;
    if (pieces !== undefined && encodePiece !== undefined) {
      slices.push(this.#asciiBytes(pieces.map(encodePiece)));
      await this.#output.write(slices.filter((slice) => slice.length > 0));
      return;
    }
    for (let start = 0; start < rows.length; start += SLICE) {
      slices.push(this.#format.encode(rows.slice(start, start + SLICE)));
    }
    await this.#output.write(slices.filter((slice) => slice !== ''));
  }

  /** An empty list still gets its header, so that a CSV of no followers is a valid CSV. */
  async finish(): Promise<void> {
    const header = this.#takeHeader();
    if (header !== '') await this.#output.write([header]);
    await this.#output.finish();
  }

  async abandon(): Promise<void> {
    await this.#output.abandon();
  }

  /**
   * Text known to be ASCII (checked OpenIDs in their format) as one buffer a page, copied as
   * Latin-1: no UTF-8 encoding, one write. A new one every page: a stream may keep what it is given.
   */
  #asciiBytes(texts: readonly string[]): Uint8Array {
    let length = 0;
    for (const text of texts) length += text.length;
    const bytes = Buffer.allocUnsafe(length);
    let offset = 0;
    for (const text of texts) offset += bytes.write(text, offset, 'latin1');
    return bytes;
  }

  #takeHeader(): string {
    if (!this.#headerPending) return '';
    this.#headerPending = false;
    return this.#bom ? `${BOM}${this.#format.header}` : this.#format.header;
  }
}
