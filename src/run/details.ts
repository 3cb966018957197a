import type { ApiClient, JsonObject } from '../api/client.js';
import { shown, ExitCode, WxError, errcodeDetail } from '../errors.js';
import { mapInOrder } from './in-order.js';
import type { FollowerInfo } from '../openid.js';
import type { DetailsLanguage } from '../plan/options.js';
import type { FollowerPage } from './pages.js';
import type { PageRows } from './read-ahead.js';

/** The API's limit for one batchget call. */
export const DETAILS_BATCH_SIZE = 100;

export interface DetailsOptions {
  lang: DetailsLanguage;
  /** batchget calls in flight at once. */
  concurrency: number;
}

/**
 * The details of the pages' OpenIDs, a batch at a time in the list's order, with up to
 * `concurrency` batchget calls in flight across page boundaries: the next page's batches start
 * while the last ones of this page still answer, so that no round at the end of a page runs
 * half full. At most `concurrency` batches are held, answered or not.
 */
export function detailsInOrder(
  client: ApiClient,
  pages: AsyncIterator<FollowerPage>,
  options: DetailsOptions,
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

/** One batchget call: a row for each OpenID asked, in the order asked. */
async function fetchDetails(
  client: ApiClient,
  openids: readonly string[],
  lang: DetailsLanguage,
  signal: AbortSignal,
): Promise<FollowerInfo[]> {
  // The check reads the answer the client accepts; kept, so that an answer is read once.
  let checked: { answer: JsonObject; rows: FollowerInfo[] } | undefined;
  let answer: JsonObject;
  try {
    answer = await client.call(
      {
        method: 'POST',
        path: '/cgi-bin/user/info/batchget',
        body: { user_list: openids.map((openid) => ({ openid, lang })) },
        // Run on every attempt, so that an inconsistent answer is asked again (batchget's quota is large).
        check: (raw) => {
          checked = { answer: raw, rows: rowsOf(raw, openids) };
        },
      },
      signal,
    );
  } catch (error) {
    if (!(error instanceof WxError) || error.errcode !== 40003) throw error;
    // The OpenIDs asked come from the account's own list, moments ago.
    throw new WxError(
      `The API refused the details of ${openids.length === 1 ? 'an OpenID' : `a batch of ${openids.length} OpenIDs`} that its own list had just given (${errcodeDetail(error.errcode, error.errmsg)}). Try again later.`,
      ExitCode.Api,
      { errcode: error.errcode, errmsg: error.errmsg, cause: error },
    );
  }
  return checked?.answer === answer ? checked.rows : rowsOf(answer, openids);
}

/** The rows of a batchget answer in the order asked: exactly one entry for each OpenID asked, and no other. */
function rowsOf(answer: JsonObject, openids: readonly string[]): FollowerInfo[] {
  const list = answer['user_info_list'];
  if (!Array.isArray(list)) throw malformed('`user_info_list` is not a list');
  const asked = new Set(openids);
  const byOpenid = new Map<string, FollowerInfo>();
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw malformed('an entry is not an object');
    const openid = (entry as JsonObject)['openid'];
    if (typeof openid !== 'string') throw malformed('an entry has no `openid`');
    if (!asked.has(openid)) throw malformed(`an entry for '${shown(openid)}', an OpenID that was not asked for`);
    byOpenid.set(openid, entry as FollowerInfo);
  }
  // The answer's order is not promised; the list's order is what the output keeps.
  return openids.map((openid) => {
    const info = byOpenid.get(openid);
    if (info === undefined) throw malformed(`no entry for ${openid}, an OpenID asked for`);
    return info;
  });
}

/**
 * Retried like a failed call; shown only once the retries are spent, when trying again later is
 * no advice: the API answered the same batch inconsistently every time.
 */
function malformed(what: string): WxError {
  return new WxError(
    `The API's answer to /cgi-bin/user/info/batchget is malformed: ${what}. The API answered this batch inconsistently on every try: ` +
      'run again later, going on from where this run stopped (the line below says how, once rows were written).',
    ExitCode.Api,
    { retry: { kind: 'backoff' } },
  );
}
