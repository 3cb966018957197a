import { setMaxListeners } from 'node:events';

/**
 * Runs `work` on each item with at most `limit` of them started and not yet taken by the
 * consumer, and yields the results in the items' order, whichever finishes first. A result that
 * waits for an earlier one counts against the limit, so that memory stays bounded however late
 * one answer is. A failure surfaces in its turn, after the results before it; then, or when the
 * consumer stops early, the work still running is aborted.
 */
export async function* mapInOrder<Item, Result>(
  items: readonly Item[],
  limit: number,
  work: (item: Item, signal: AbortSignal) => Promise<Result>,
): AsyncGenerator<Result> {
  const controller = new AbortController();
  // Each piece of work in flight listens to it: `limit` of them are no leak.
  setMaxListeners(limit + 10, controller.signal);
  const started: Promise<Result>[] = [];
  let next = 0;
  try {
    while (next < items.length || started.length > 0) {
      while (started.length < limit && next < items.length) {
        const running = work(items[next] as Item, controller.signal);
        // Awaited in its turn; until then a failure must not count as unhandled.
        running.catch(() => undefined);
        started.push(running);
        next += 1;
      }
      yield await (started.shift() as Promise<Result>);
    }
  } finally {
    controller.abort();
  }
}
