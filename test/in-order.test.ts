import { access } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mapInOrder } from '../src/run/in-order.js';

/** Work whose answers the test hands out one by one, in any order. */
function controlledWork(): {
  work: (item: number, signal: AbortSignal) => Promise<string>;
  started: number[];
  signals: Map<number, AbortSignal>;
  settle: (item: number, outcome?: Error) => void;
} {
  const pending = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  const started: number[] = [];
  const signals = new Map<number, AbortSignal>();
  return {
    started,
    signals,
    work: (item, signal) =>
      new Promise<string>((resolve, reject) => {
        started.push(item);
        signals.set(item, signal);
        pending.set(item, { resolve, reject });
      }),
    settle: (item, outcome) => {
      const entry = pending.get(item);
      if (entry === undefined) throw new Error(`item ${item} has not started`);
      if (outcome === undefined) entry.resolve(`result ${item}`);
      else entry.reject(outcome);
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** A timer turn of the event loop, when results are handed over. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('mapInOrder', () => {
  it('yields in the items’ order and starts no more than the limit ahead of the consumer', async () => {
    const { work, started, settle } = controlledWork();
    const results = mapInOrder([0, 1, 2, 3, 4, 5, 6], 3, work);
    const first = results.next();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // Later items answer first; nothing more starts while item 0 holds up the line.
    settle(2);
    settle(1);
    await tick();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    settle(0);
    expect((await first).value).toBe('result 0');
    // Item 3 started as result 0 was handed over, before the consumer asked again.
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    expect((await results.next()).value).toBe('result 1');
    expect((await results.next()).value).toBe('result 2');
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    settle(4);
    settle(3);
    expect((await results.next()).value).toBe('result 3');
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    settle(5);
    settle(6);
    const rest: string[] = [];
    for await (const result of results) rest.push(result);
    expect(rest).toEqual(['result 4', 'result 5', 'result 6']);
  });

  it('starts the next item before the consumer works on a result, and hands results over after the I/O callbacks that settled them', async () => {
    const { work, started, settle } = controlledWork();
    const results = mapInOrder([0, 1, 2], 1, work);
    const first = results.next();
    await tick();
    expect(started).toEqual([0]);
    const order: string[] = [];
    // An answer comes in an I/O callback, as undici's do, which queues an immediate beside it.
    access('.', () => {
      settle(0);
      setImmediate(() => order.push('immediate after the answer'));
    });
    const { value } = await first;
    order.push(`consumer has ${value}`);
    // With the limit at one, item 1 can only have started at the hand-over of result 0.
    expect(started).toEqual([0, 1]);
    expect(order).toEqual(['immediate after the answer', 'consumer has result 0']);
    await results.return(undefined);
  });

  it('makes the next call before the consumer works on a result, when the items come from an async source and the call is made a few promise jobs after the work starts', async () => {
    const sent: number[] = [];
    const answers = new Map<number, () => void>();
    async function* batches(): AsyncGenerator<number> {
      for (let item = 0; item < 3; item += 1) yield item;
    }
    // As the client does: a token to await, then the request.
    const work = async (item: number): Promise<string> => {
      await Promise.resolve();
      await Promise.resolve();
      sent.push(item);
      await new Promise<void>((resolve) => answers.set(item, resolve));
      return `result ${item}`;
    };
    const results = mapInOrder(batches(), 1, work);
    const first = results.next();
    await tick();
    expect(sent).toEqual([0]);
    access('.', () => answers.get(0)?.());
    expect((await first).value).toBe('result 0');
    expect(sent).toEqual([0, 1]);
    await results.return(undefined);
  });

  it('takes work that throws at once for a failure in its turn', async () => {
    const work = (item: number): Promise<string> => {
      if (item === 1) throw new Error('item 1 threw');
      return Promise.resolve(`result ${item}`);
    };
    const results = mapInOrder([0, 1, 2], 2, work);
    expect((await results.next()).value).toBe('result 0');
    await expect(results.next()).rejects.toThrow('item 1 threw');
  });

  it('starts no item once a piece of work has failed', async () => {
    const { work, started, settle } = controlledWork();
    const results = mapInOrder([0, 1, 2, 3, 4], 2, work);
    const first = results.next();
    await tick();
    expect(started).toEqual([0, 1]);
    settle(1, new Error('batch 1 failed'));
    settle(0);
    expect((await first).value).toBe('result 0');
    await expect(results.next()).rejects.toThrow('batch 1 failed');
    await tick();
    // Result 0's hand-over had room for item 2 only if the failure were ignored.
    expect(started).toEqual([0, 1]);
  });

  it('yields the results before a failure, then throws it and aborts the work still running', async () => {
    const { work, signals, settle } = controlledWork();
    const results = mapInOrder([0, 1, 2, 3], 4, work);
    const first = results.next();
    await tick();
    settle(0);
    settle(1, new Error('batch 1 failed'));
    settle(3);
    expect((await first).value).toBe('result 0');
    await expect(results.next()).rejects.toThrow('batch 1 failed');
    expect(signals.get(2)?.aborted).toBe(true);
  });

  describe('over an async source (the batches of pages still being fetched)', () => {
    /** Items the test hands to the consumer one by one, or a failure; `returned` once it is ended. */
    function controlledSource(): AsyncIterableIterator<number> & { give: (item: number | Error) => void; returned: boolean } {
      const waiting: ((result: number | Error) => void)[] = [];
      const given: (number | Error)[] = [];
      const source = {
        returned: false,
        give: (item: number | Error) => {
          const taker = waiting.shift();
          if (taker === undefined) given.push(item);
          else taker(item);
        },
        next: async (): Promise<IteratorResult<number>> => {
          const item = given.shift() ?? (await new Promise<number | Error>((resolve) => waiting.push(resolve)));
          if (item instanceof Error) throw item;
          return { done: false, value: item };
        },
        return: async (): Promise<IteratorResult<number>> => {
          source.returned = true;
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]: () => source,
      };
      return source;
    }

    it('hands over a result that is in while the source still waits for its next item', async () => {
      const { work, started, settle } = controlledWork();
      const source = controlledSource();
      const results = mapInOrder(source, 4, work);
      source.give(0);
      const first = results.next();
      await tick();
      expect(started).toEqual([0]);
      settle(0);
      // Item 1 has not come yet (the next page is still being fetched): result 0 does not wait for it.
      expect((await first).value).toBe('result 0');
      source.give(1);
      source.give(2);
      const second = results.next();
      await tick();
      expect(started).toEqual([0, 1, 2]);
      settle(1);
      expect((await second).value).toBe('result 1');
    });

    it('throws a failure of the source after the results of the items before it, and ends the source when stopped early', async () => {
      const { work, settle, signals } = controlledWork();
      const source = controlledSource();
      const results = mapInOrder(source, 4, work);
      source.give(0);
      source.give(1);
      source.give(new Error('list call failed'));
      const first = results.next();
      await tick();
      settle(1);
      settle(0);
      expect((await first).value).toBe('result 0');
      expect((await results.next()).value).toBe('result 1');
      await expect(results.next()).rejects.toThrow('list call failed');

      const other = controlledSource();
      const again = mapInOrder(other, 4, work);
      other.give(10);
      other.give(11);
      const head = again.next();
      await tick();
      settle(10);
      await head;
      await again.return(undefined);
      expect(signals.get(11)?.aborted).toBe(true);
      expect(other.returned).toBe(true);
    });
  });
});
