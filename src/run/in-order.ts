import { setMaxListeners } from 'node:events';
import { setImmediate as afterIo } from 'node:timers/promises';

/** How a piece of work ended, once it has. */
type Outcome<Result> = { value: Result } | { failure: unknown };

/** A piece of work started, in the items' order; its outcome once it has settled. */
interface Started<Result> {
  outcome?: Outcome<Result>;
}

/** The end of the source, or its failure. */
type SourceEnd = { end: true } | { failure: unknown };

/**
 * Runs `work` on each item with at most `limit` of them started and not yet handed to the
 * consumer, and yields the results in the items' order, whichever finishes first. A result that
 * waits for an earlier one counts against the limit, so that memory stays bounded however late
 * one answer is. A failure surfaces in its turn, after the results before it, and no item starts
 * once a piece of work has failed; then, or when the consumer stops early, the work still running
 * is aborted and the source ended.
 *
 * A result is handed over after the I/O callbacks of the turn it settled in, and the next item
 * starts as it is handed over, before the consumer works on it (encodes, writes).
 *
 * The items may come from an async source (the batches of pages still being fetched): waiting
 * for the next item never holds back a result that is ready, and a failure of the source also
 * surfaces after the results of the items it gave before.
 */
export async function* mapInOrder<Item, Result>(
  items: Iterable<Item> | AsyncIterable<Item>,
  limit: number,
  work: (item: Item, signal: AbortSignal) => Promise<Result>,
): AsyncGenerator<Result> {
  const window = new InOrderWindow(items, limit, work);
  try {
    window.fill();
    for (;;) {
      const head = window.head();
      if (head?.outcome !== undefined) {
        // After the I/O callbacks that settled it, and after the immediates they queued: undici
        // frees a connection that an answer came on in a setImmediate callback, so that the next
        // call goes out on it at once, and the answers that came in beside this one are read
        // before it is encoded and written.
        await afterIo();
        window.handOver();
        // The next item comes from an async source and its call is made a few promise jobs later:
        // it goes out before the consumer works on this result.
        await afterIo();
        const { outcome } = head;
        if ('failure' in outcome) throw outcome.failure;
        yield outcome.value;
        continue;
      }
      const { ended } = window;
      if (head === undefined && ended !== undefined) {
        if ('failure' in ended) throw ended.failure;
        return;
      }
      await window.settled();
    }
  } finally {
    await window.stop();
  }
}

/** The items started and not yet handed over, in their order, and the source they come from. */
class InOrderWindow<Item, Result> {
  readonly #controller = new AbortController();
  readonly #source: Iterator<Item> | AsyncIterator<Item>;
  readonly #limit: number;
  readonly #work: (item: Item, signal: AbortSignal) => Promise<Result>;
  /** Started and not yet handed over, in the items' order. */
  readonly #started: Started<Result>[] = [];
  #pulling = false;
  #failed = false;
  #stopped = false;
  ended: SourceEnd | undefined;
  /** The consumer, waiting for a result to settle or for the source to end. */
  #wake: (() => void) | undefined;

  constructor(items: Iterable<Item> | AsyncIterable<Item>, limit: number, work: (item: Item, signal: AbortSignal) => Promise<Result>) {
    // Each piece of work running listens to it: `limit` of them are no leak.
    setMaxListeners(limit + 10, this.#controller.signal);
    this.#source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
    this.#limit = limit;
    this.#work = work;
  }

  head(): Started<Result> | undefined {
    return this.#started[0];
  }

  /** The head is the consumer's now: its place goes to the next item. */
  handOver(): void {
    this.#started.shift();
    this.fill();
  }

  settled(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Asks the source for the next item while there is room; one request to the source at a time. */
  fill(): void {
    if (this.#pulling || this.#stopped || this.#failed || this.ended !== undefined || this.#started.length >= this.#limit) return;
    this.#pulling = true;
    Promise.resolve(this.#source.next()).then(
      (next) => {
        this.#pulling = false;
        if (this.#stopped) return;
        if (next.done === true) {
          this.ended = { end: true };
          this.#notify();
          return;
        }
        this.#start(next.value);
        this.fill();
      },
      (failure: unknown) => {
        this.#pulling = false;
        this.ended = { failure };
        this.#notify();
      },
    );
  }

  /** The work still running is aborted, and the source ended unless it ended by itself. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#controller.abort();
    if (this.ended === undefined) await this.#source.return?.();
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }

  #start(item: Item): void {
    const entry: Started<Result> = {};
    this.#started.push(entry);
    let running: Promise<Result>;
    try {
      running = this.#work(item, this.#controller.signal);
    } catch (failure) {
      running = Promise.reject(failure);
    }
    running.then(
      (value) => {
        entry.outcome = { value };
        this.#notify();
      },
      (failure: unknown) => {
        entry.outcome = { failure };
        this.#failed = true;
        this.#notify();
      },
    );
  }
}
