import type { RecordFormat } from './formats.js';
import type { Output } from './output.js';

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

  async writePage(rows: readonly Row[]): Promise<void> {
    const slices = [this.#takeHeader()];
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

  #takeHeader(): string {
    if (!this.#headerPending) return '';
    this.#headerPending = false;
    return this.#bom ? `${BOM}${this.#format.header}` : this.#format.header;
  }
}
