import { setMaxListeners } from 'node:events';

/** An item taken from the source, its end, or its failure. */
type Pulled<Item> = { item: Item } | { end: true } | { failure: unknown };

/**
 * Runs `work` on each item with at most `limit` of them started and not yet taken by the
 * consumer, and yields the results in the items' order, whichever finishes first. A result that
 * waits for an earlier one counts against the limit, so that memory stays bounded however late
 * one answer is. A failure surfaces in its turn, after the results before it; then, or when the
 * consumer stops early, the work still running is aborted and the source ended.
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
  // Each piece of work in flight listens to it: `limit` of them are no leak.
  setMaxListeners(limit + 10, controller.signal);
  const source: Iterator<Item> | AsyncIterator<Item> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const started: Promise<Result>[] = [];
  let pulling: Promise<Pulled<Item>> | undefined;
  let ended: Pulled<Item> | undefined;
  const pull = (): Promise<Pulled<Item>> =>
    (pulling ??= Promise.resolve(source.next()).then(
      (next): Pulled<Item> => (next.done === true ? { end: true } : { item: next.value }),
      (failure: unknown): Pulled<Item> => ({ failure }),
    ));
  try {
    for (;;) {
      while (ended === undefined && started.length < limit) {
        const head = started[0];
        const pulled = await (head === undefined ? pull() : Promise.race([pull(), head.then(noItem, noItem)]));
        // The oldest result is in while the source still fetches: hand it over first.
        if (pulled === undefined) break;
        pulling = undefined;
        if ('item' in pulled) {
          const running = work(pulled.item, controller.signal);
          // Awaited in its turn; until then a failure must not count as unhandled.
          running.catch(() => undefined);
          started.push(running);
        } else {
          ended = pulled;
        }
      }
      const head = started.shift();
      if (head === undefined) {
        if (ended !== undefined && 'failure' in ended) throw ended.failure;
        return;
      }
      yield await head;
    }
  } finally {
    controller.abort();
    if (ended === undefined) await source.return?.();
  }
}

function noItem(): undefined {
  return undefined;
}
