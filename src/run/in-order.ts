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
  const controller = new AbortController();
  // Each piece of work running listens to it: `limit` of them are no leak.
  setMaxListeners(limit + 10, controller.signal);
  const source: Iterator<Item> | AsyncIterator<Item> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  /** Started and not yet handed over, in the items' order. */
  const started: Started<Result>[] = [];
  let pulling = false;
  let failed = false;
  let stopped = false;
  let ended: SourceEnd | undefined;
  /** The consumer, waiting for a result to settle or for the source to end. */
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };

  const start = (item: Item): void => {
    const entry: Started<Result> = {};
    started.push(entry);
    let running: Promise<Result>;
    try {
      running = work(item, controller.signal);
    } catch (failure) {
      running = Promise.reject(failure);
    }
    running.then(
      (value) => {
        entry.outcome = { value };
        notify();
      },
      (failure: unknown) => {
        entry.outcome = { failure };
        failed = true;
        notify();
      },
    );
  };

  /** Asks the source for the next item while there is room; one request to the source at a time. */
  const fill = (): void => {
    if (pulling || stopped || failed || ended !== undefined || started.length >= limit) return;
    pulling = true;
    Promise.resolve(source.next()).then(
      (next) => {
        pulling = false;
        if (stopped) return;
        if (next.done === true) {
          ended = { end: true };
          notify();
          return;
        }
        start(next.value);
        fill();
      },
      (failure: unknown) => {
        pulling = false;
        ended = { failure };
        notify();
      },
    );
  };

  try {
    fill();
    for (;;) {
      const head = started[0];
      if (head?.outcome !== undefined) {
        // After the I/O callbacks that settled it, and after the immediates they queued: undici
        // frees a connection that an answer came on in a setImmediate callback, so that the next
        // call goes out on it at once, and the answers that came in beside this one are read
        // before it is encoded and written.
        await afterIo();
        started.shift();
        fill();
        // The next item comes from an async source and its call is made a few promise jobs later:
        // it goes out before the consumer works on this result.
        await afterIo();
        const { outcome } = head;
        if ('failure' in outcome) throw outcome.failure;
        yield outcome.value;
        continue;
      }
      if (head === undefined && ended !== undefined) {
        if ('failure' in ended) throw ended.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stopped = true;
    controller.abort();
    if (ended === undefined) await source.return?.();
  }
}
