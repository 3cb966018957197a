import type { ApiClient } from '../api/client.js';
import { DETAILS_BATCH_SIZE, fetchDetails } from '../api/endpoints/batchget.js';
import type { FollowerPage } from '../api/endpoints/lists.js';
import type { FollowerInfo } from '../openid.js';
import type { DetailsPlan } from '../plan/export.js';
import { mapInOrder } from './in-order.js';
import type { PageRows } from './read-ahead.js';

/**
 * The details of the pages' OpenIDs, a batch at a time in the list's order, with up to
 * `concurrency` batchget calls in flight across page boundaries: the next page's batches start
 * while the last ones of this page still answer, so that no round at the end of a page runs
 * half full. At most `concurrency` batches are held, answered or not.
 */
export function detailsInOrder(
  client: ApiClient,
  pages: AsyncIterator<FollowerPage>,
  options: DetailsPlan,
): AsyncGenerator<PageRows<FollowerInfo>> {
  return mapInOrder(batchesOf(pages), options.concurrency, async ({ openids, page, endsPage }, signal) => ({
    rows: await fetchDetails(client, openids, options.lang, signal),
    page,
    endsPage,
  }));
}

interface Batch {
  openids: readonly string[];
  page: FollowerPage;
  endsPage: boolean;
}

/**
 * The pages cut into batches. Not a generator: a generator waiting for the next page would queue
 * `return()` behind that page's call, where the call must be aborted at once.
 */
function batchesOf(pages: AsyncIterator<FollowerPage>): AsyncIterableIterator<Batch> {
  let page: FollowerPage | undefined;
  let start = 0;
  const batches: AsyncIterableIterator<Batch> = {
    async next() {
      while (page === undefined || start >= page.openids.length) {
        const next = await pages.next();
        if (next.done === true) return { done: true, value: undefined };
        page = next.value;
        start = 0;
      }
      const end = start + DETAILS_BATCH_SIZE;
      const batch = { openids: page.openids.slice(start, end), page, endsPage: end >= page.openids.length };
      start = end;
      return { done: false, value: batch };
    },
    async return() {
      await pages.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => batches,
  };
  return batches;
}
