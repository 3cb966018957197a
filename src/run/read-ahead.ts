import { piecesOf, type OpenidPiece } from '../openid.js';
import type { FollowerPage, ListSource } from '../api/endpoints/lists.js';
import { paginate } from './pages.js';

/** Rows of a page, a page or a batch at a time, as the export loop writes them. */
export interface PageRows<Row> {
  rows: readonly Row[];
  /** When the rows are the page's OpenIDs: the same in pieces (FollowerPage.pieces). */
  pieces?: readonly OpenidPiece[];
  page: FollowerPage;
  /** The last rows of the page: once written, the page is done (and a --state records it). */
  endsPage: boolean;
}

export interface ReadAheadOptions {
  /**
   * OpenIDs wanted at most: a page that goes past it is cut there, and no page after it is asked
   * for. A page that ends on it is followed by one more call, only to learn whether the list ends there.
   */
  limit?: number | undefined;
  /** Whether to ask for the next page while this one is written; off, one page at a time. */
  ahead: boolean;
}

/** The pages of a list, one ahead of the consumer, ended by `return()` with the call in flight aborted. */
export interface PagesAhead extends AsyncIterableIterator<FollowerPage> {
  /** Whether the walk stopped at the limit rather than at the end of the list. */
  readonly limitReached: boolean;
}

/**
 * Walks a list as `paginate` does, but asks for page N+1 as soon as page N is parsed, so that
 * encoding and writing page N hides behind the network; at most two pages are held. When the
 * consumer stops (the reader went away, a write failed), `return()` aborts the call in flight at
 * once and no further one is made.
 */
export function readAhead(source: ListSource, startAfter: string | undefined, options: ReadAheadOptions): PagesAhead {
  const controller = new AbortController();
  const pages = paginate({ ...source, fetchPage: (cursor) => source.fetchPage(cursor, controller.signal) }, startAfter);
  const { limit } = options;
  let yielded = 0;
  let limitReached = false;
  let closed = false;
  let inFlight: Promise<IteratorResult<FollowerPage>> | undefined;

  const fetchNext = (): Promise<IteratorResult<FollowerPage>> => {
    const next = pages.next();
    inFlight = next;
    // Taken in its turn, by the next `next()`; until then a failure must not count as unhandled.
    next.catch(() => undefined);
    return next;
  };

  const iterator: PagesAhead = {
    get limitReached() {
      return limitReached;
    },
    async next() {
      if (closed || limitReached) return { done: true, value: undefined };
      const result = await (inFlight ?? fetchNext());
      inFlight = undefined;
      if (result.done === true || closed) return { done: true, value: undefined };
      let page = result.value;
      if (limit !== undefined && yielded >= limit) {
        // A limit met exactly at the end of a page is known to have cut the list only once
        // another page comes: a list of exactly --limit OpenIDs is complete, and its run says so.
        limitReached = true;
        return { done: true, value: undefined };
      }
      if (limit !== undefined && yielded + page.openids.length > limit) {
        const openids = page.openids.slice(0, limit - yielded);
        page = { ...page, openids, pieces: piecesOf(openids) };
        limitReached = true;
      }
      yielded += page.openids.length;
      if (options.ahead && !limitReached) fetchNext();
      return { done: false, value: page };
    },
    async return() {
      closed = true;
      controller.abort(new Error('The pages were no longer wanted.'));
      await inFlight?.catch(() => undefined);
      inFlight = undefined;
      await pages.return(undefined).catch(() => undefined);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
