import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/api/client.js';
import { parseListPage, type ListSource } from '../src/api/endpoints/lists.js';
import { readAhead } from '../src/run/read-ahead.js';

interface Fetch {
  cursor: string | undefined;
  signal: AbortSignal | undefined;
  answer: (page: JsonObject) => void;
  fail: (error: Error) => void;
}

/** A list source whose answers the test hands out one by one: what was asked, and when. */
function controlledSource(): ListSource & { fetches: Fetch[] } {
  const fetches: Fetch[] = [];
  return {
    description: 'test list',
    fetches,
    fetchPage: (cursor, signal) =>
      new Promise((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        fetches.push({ cursor, signal, answer: (page) => resolve(parseListPage(page, 'test list')), fail: reject });
      }),
  };
}

/** Page `n` of a list of pages of `size`: OpenIDs p<n>-0 and on, its cursor the last of them. */
function page(n: number, size = 3): JsonObject {
  const openids = Array.from({ length: size }, (_, index) => `p${n}-${index}`);
  return { total: 99, count: size, data: { openid: openids }, next_openid: openids.at(-1) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('readAhead', () => {
  it('asks for page N+1 as soon as page N is handed over, before the consumer asks again', async () => {
    const source = controlledSource();
    const pages = readAhead(source, undefined, { ahead: true });
    const first = pages.next();
    await tick();
    expect(source.fetches).toHaveLength(1);
    source.fetches[0]?.answer(page(1));
    expect((await first).value?.openids).toEqual(['p1-0', 'p1-1', 'p1-2']);
    await tick();
    // Page 1 is with the consumer (being written): page 2 is on its way, and no third.
    expect(source.fetches.map((fetch) => fetch.cursor)).toEqual([undefined, 'p1-2']);
    source.fetches[1]?.answer(page(2));
    await tick();
    expect(source.fetches).toHaveLength(2);
    const second = pages.next();
    expect((await second).value?.openids).toEqual(['p2-0', 'p2-1', 'p2-2']);
    await tick();
    expect(source.fetches.map((fetch) => fetch.cursor)).toEqual([undefined, 'p1-2', 'p2-2']);
  });

  it('asks for one page at a time when read-ahead is off, and yields the same pages', async () => {
    const walk = async (ahead: boolean): Promise<{ pages: string[][]; fetchedEarly: boolean }> => {
      const source = controlledSource();
      const pages = readAhead(source, 'start', { ahead });
      const seen: string[][] = [];
      let fetchedEarly = false;
      for (let n = 1; ; n += 1) {
        const next = pages.next();
        await tick();
        source.fetches.at(-1)?.answer(n === 4 ? { total: 99, count: 0, next_openid: '' } : page(n, 2));
        const result = await next;
        if (result.done === true) break;
        seen.push(result.value.openids);
        await tick();
        if (source.fetches.length > n) fetchedEarly = true;
      }
      expect(source.fetches[0]?.cursor).toBe('start');
      return { pages: seen, fetchedEarly };
    };
    const ahead = await walk(true);
    const oneAtATime = await walk(false);
    expect(ahead.pages).toHaveLength(3);
    expect(oneAtATime.pages).toEqual(ahead.pages);
    expect(ahead.fetchedEarly).toBe(true);
    expect(oneAtATime.fetchedEarly).toBe(false);
  });

  it('cuts the page that reaches the limit and asks for none after it', async () => {
    const source = controlledSource();
    const pages = readAhead(source, undefined, { ahead: true, limit: 5 });
    const first = pages.next();
    await tick();
    source.fetches[0]?.answer(page(1));
    await first;
    await tick();
    source.fetches[1]?.answer(page(2));
    expect((await pages.next()).value?.openids).toEqual(['p2-0', 'p2-1']);
    await tick();
    expect(source.fetches).toHaveLength(2);
    expect(pages.limitReached).toBe(true);
    expect((await pages.next()).done).toBe(true);
    expect(source.fetches).toHaveLength(2);
  });

  it('at a limit that ends on a page boundary, asks for one more page only to learn whether the list ends there', async () => {
    const walk = async (second: JsonObject): Promise<{ next: IteratorResult<unknown>; limitReached: boolean; fetches: number }> => {
      const source = controlledSource();
      const pages = readAhead(source, undefined, { ahead: true, limit: 3 });
      const first = pages.next();
      await tick();
      source.fetches[0]?.answer(page(1));
      expect((await first).value?.openids).toHaveLength(3);
      await tick();
      source.fetches[1]?.answer(second);
      const next = await pages.next();
      await tick();
      return { next, limitReached: pages.limitReached, fetches: source.fetches.length };
    };
    // More followers after the limit: the page is not handed over, and nothing after it is asked for.
    expect(await walk(page(2))).toEqual({ next: { done: true, value: undefined }, limitReached: true, fetches: 2 });
    // Exactly --limit followers: the list is complete.
    expect(await walk({ total: 3, count: 0, next_openid: '' })).toEqual({
      next: { done: true, value: undefined },
      limitReached: false,
      fetches: 2,
    });
  });

  it('aborts the call in flight at once when the consumer stops, and makes no other', async () => {
    const source = controlledSource();
    const pages = readAhead(source, undefined, { ahead: true });
    const first = pages.next();
    await tick();
    source.fetches[0]?.answer(page(1));
    await first;
    await tick();
    const inFlight = source.fetches[1];
    expect(inFlight?.signal?.aborted).toBe(false);
    // The write of page 1 failed: the loop ends, and with it the walk.
    await pages.return?.();
    expect(inFlight?.signal?.aborted).toBe(true);
    expect((await pages.next()).done).toBe(true);
    await tick();
    expect(source.fetches).toHaveLength(2);
  });

  it('hands over a failure of the page read ahead only when that page is asked for', async () => {
    const source = controlledSource();
    const pages = readAhead(source, undefined, { ahead: true });
    const first = pages.next();
    await tick();
    source.fetches[0]?.answer(page(1));
    await first;
    await tick();
    source.fetches[1]?.fail(new Error('quota spent'));
    await tick();
    // Page 1 is still being written: nothing is thrown at it, and nothing is unhandled.
    await expect(pages.next()).rejects.toThrow('quota spent');
  });
});
