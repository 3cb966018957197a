import type { RecordFormat } from './formats.js';
import type { Output } from './output.js';

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
    await this.#output.write(this.#takeHeader() + this.#format.encode(openids));
  }

  /** An empty list still gets its header, so that a CSV of no followers is a valid CSV. */
  async finish(): Promise<void> {
    const header = this.#takeHeader();
    if (header !== '') await this.#output.write(header);
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
