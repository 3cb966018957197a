import type { RecordFormat } from './formats.js';
import type { Output } from './output.js';

/**
 * OpenIDs encoded at once: small enough that the encoded text stays out of V8's large-object
 * space, whose every string is mapped and unmapped on its own (a page of 10,000 as one string
 * doubled the export's system time).
 */
const SLICE = 2_048;

/** A format bound to an output: what the export loop writes its pages to. */
export class Sink {
  readonly #format: RecordFormat;
  readonly #output: Output;
  #headerPending: boolean;

  constructor(format: RecordFormat, output: Output) {
    this.#format = format;
    this.#output = output;
    this.#headerPending = output.startsEmpty && format.header !== '';
  }

  async writePage(openids: readonly string[]): Promise<void> {
    const slices = [this.#takeHeader()];
    for (let start = 0; start < openids.length; start += SLICE) {
      slices.push(this.#format.encode(openids.slice(start, start + SLICE)));
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
    return this.#format.header;
  }
}
