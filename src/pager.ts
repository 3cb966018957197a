import type { JsonObject } from './api/client.js';
import { ExitCode, WxError, malformedAnswer } from './errors.js';

/** One answer of a paged list, reduced to what the export needs. */
export interface FollowerPage {
  /** The OpenIDs of this page, in the API's order, without the empty strings the API sometimes sends. */
  openids: string[];
  /** The list's size as the API reports it; the tag list reports none. */
  total: number | undefined;
  /** The cursor that continues after this page. */
  nextOpenid: string;
}

/** A paged list of the API: the lists differ only in the request that fetches a page. */
export interface ListSource {
  /** What the list is, for messages ("follower list"). */
  readonly description: string;
  /** Fetches the page after `cursor`, or the first page when it is undefined; `signal` aborts the call. */
  fetchPage(cursor: string | undefined, signal?: AbortSignal): Promise<JsonObject>;
  /** The list's size from elsewhere, for a list whose pages do not tell it (a tag's). */
  size?(): Promise<number | undefined>;
}

/**
 * Walks a list from the start, or after `startAfter`, one page at a time (after Octokit's
 * paginate.iterator). It holds one page at a time and knows nothing of outputs or progress.
 */
export async function* paginate(source: ListSource, startAfter?: string): AsyncGenerator<FollowerPage> {
  let cursor = startAfter;
  for (;;) {
    const page = parseListAnswer(await source.fetchPage(cursor), source.description);
    if (page === undefined) return;
    if (cursor !== undefined && page.nextOpenid === cursor) {
      // The same cursor back, with data, would have the loop fetch the same page forever.
      throw new WxError(
        `The API answered the ${source.description} after ${cursor} with the same cursor again; stopping rather than looping. Try again later.`,
        ExitCode.Api,
      );
    }
    if (page.openids.length > 0) yield page;
    if (page.nextOpenid === '') return;
    cursor = page.nextOpenid;
  }
}

/** Undefined where the answer ends the list: no `data`, a `count` of 0. */
function parseListAnswer(answer: JsonObject, description: string): FollowerPage | undefined {
  const malformed = (what: string): WxError => malformedAnswer(`for the ${description}`, what);
  const { total, count, data, next_openid: nextOpenid } = answer;
  if (total !== undefined && typeof total !== 'number') throw malformed('`total` is not a number');
  if (count !== undefined && typeof count !== 'number') throw malformed('`count` is not a number');
  if (nextOpenid !== undefined && typeof nextOpenid !== 'string') throw malformed('`next_openid` is not a string');
  if (data === undefined || count === 0) return undefined;
  if (typeof data !== 'object' || data === null) throw malformed('`data` is not an object');
  const list = (data as JsonObject)['openid'];
  if (!Array.isArray(list)) throw malformed('`data.openid` is not a list');
  const openids: string[] = [];
  for (const openid of list) {
    if (typeof openid !== 'string') throw malformed('`data.openid` holds something other than strings');
    if (openid !== '') openids.push(openid);
  }
  return { openids, total, nextOpenid: nextOpenid ?? '' };
}
