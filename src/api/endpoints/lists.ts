import type { ApiClient, ApiRequest, JsonObject } from '../client.js';
import { counted, malformedAnswer, shown, type WxError } from '../../errors.js';
import { checkedPieces, describeList, isOpenidShape, piecesOf, type FollowerList, type OpenidPiece } from '../../openid.js';
import { fetchTags } from './tags.js';

/** One answer of a paged list, reduced to what the export needs. */
export interface FollowerPage {
  /** The OpenIDs of this page, in the API's order, without the empty strings the API sometimes sends. */
  openids: string[];
  /** The same OpenIDs in pieces, each joined once: what the OpenID formats write. */
  pieces: OpenidPiece[];
  /** The list's size as the API reports it; the tag list reports none. */
  total: number | undefined;
  /** The cursor that continues after this page: its next_openid, or its last OpenID when that is empty. */
  nextOpenid: string;
  /** The answer's next_openid was empty, and the cursor is its last OpenID. */
  cursorIsLastOpenid: boolean;
}

/** A paged list of the API: the lists differ only in the request that fetches a page. */
export interface ListSource {
  /** What the list is, for messages ("follower list"). */
  readonly description: string;
  /**
   * The page after `cursor`, or the first page when it is undefined; undefined past the end. The
   * page is read on every attempt, so that a malformed one is retried. `signal` aborts the call
   * (the page read ahead, when the export stops).
   */
  fetchPage(cursor: string | undefined, signal?: AbortSignal): Promise<FollowerPage | undefined>;
  /** The list's size from elsewhere, for a list whose pages do not tell it (a tag's). */
  size?(): Promise<number | undefined>;
}

/** The list a plan names, on this client: its page requests, and where else its size can be learnt. */
export function listSource(list: FollowerList, client: ApiClient): ListSource {
  const description = describeList(list);
  const request = pageRequest(list);
  return {
    description,
    fetchPage: (cursor, signal) => client.call(request(cursor), (answer) => parseListPage(answer, description), signal),
    // The tag list tells each tag's size; the pages of the tag do not.
    ...(list.kind === 'tag' ? { size: async () => (await fetchTags(client)).find((tag) => tag.id === list.tagid)?.count } : {}),
  };
}

/** The request for the page after `cursor` (undefined: the first page). */
function pageRequest(list: FollowerList): (cursor: string | undefined) => ApiRequest {
  switch (list.kind) {
    case 'followers':
      // `GET /cgi-bin/user/get`. The first call must carry no next_openid at all: an empty one has been answered with 40003.
      return (cursor) => {
        const query: Record<string, string> = cursor === undefined ? {} : { next_openid: cursor };
        return { method: 'GET', path: '/cgi-bin/user/get', query };
      };
    case 'tag':
      // `POST /cgi-bin/user/tag/get`, whose answers carry no total.
      return (cursor) => ({ method: 'POST', path: '/cgi-bin/user/tag/get', body: { tagid: list.tagid, next_openid: cursor ?? '' } });
    case 'blacklist':
      return (cursor) => ({ method: 'POST', path: '/cgi-bin/tags/members/getblacklist', body: { begin_openid: cursor ?? '' } });
  }
}

/**
 * Undefined where the answer ends the list: no OpenIDs and a `count` of 0, as the API's last
 * answer (`{"total":N,"count":0,"next_openid":""}`). Anything that contradicts itself is malformed,
 * and retried like a failed call: taken for the end, it would end an export short without a word.
 */
export function parseListPage(answer: JsonObject, description: string): FollowerPage | undefined {
  const malformed = (what: string): WxError => malformedAnswer(`for the ${description}`, what, { kind: 'backoff' });
  const { total, count, data, next_openid: nextOpenid } = answer;
  if (total !== undefined && !isWholeNumber(total)) throw malformed('`total` is not a whole number, 0 or more');
  if (count === undefined) throw malformed('it has no `count`');
  if (!isWholeNumber(count)) throw malformed('`count` is not a whole number, 0 or more');
  if (nextOpenid !== undefined && typeof nextOpenid !== 'string') throw malformed('`next_openid` is not a string');
  if (nextOpenid !== undefined && nextOpenid !== '' && !isOpenidShape(nextOpenid)) {
    throw malformed(`\`next_openid\` is '${shown(nextOpenid)}', which is not an OpenID (${OPENID_SHAPE})`);
  }
  let openids: string[] = [];
  let pieces: OpenidPiece[] | undefined;
  let listed = 0;
  if (data !== undefined && typeof data !== 'object') throw malformed('`data` is not an object');
  // The last page has been seen with `"data": null` and with `"data": {"openid": null}`: no OpenIDs, as
  // when `data` is left out. Whether that ends the list is `count`'s to say, below.
  const list: unknown = data === undefined || data === null ? null : (data as JsonObject)['openid'];
  if (list !== null) {
    if (!Array.isArray(list)) throw malformed('`data.openid` is not a list');
    listed = list.length;
    pieces = checkedPieces(list);
    if (pieces !== undefined) {
      openids = list as string[];
    } else {
      for (const openid of list) {
        if (typeof openid !== 'string') throw malformed('`data.openid` holds something other than strings');
        if (openid === '') continue;
        if (!isOpenidShape(openid)) throw malformed(`\`data.openid\` holds '${shown(openid)}', which is not an OpenID (${OPENID_SHAPE})`);
        openids.push(openid);
      }
    }
  }
  if (openids.length === 0) {
    if (count === 0) return undefined;
    throw malformed(`\`count\` is ${count}, but ${noOpenidsIn(data)}`);
  }
  if (count === 0) throw malformed(`\`count\` is 0, but \`data.openid\` holds ${counted(openids.length, 'OpenID')}`);
  // The API's published example lists ["","A","B"] with a count of 2: either count will do.
  if (count !== listed && count !== openids.length) {
    throw malformed(`\`count\` is ${count}, but \`data.openid\` holds ${counted(openids.length, 'OpenID')}`);
  }
  if (nextOpenid === undefined) {
    // Taken for the end, it would end the export far short of the list, without a word.
    throw malformed('a page of OpenIDs without `next_openid`');
  }
  // next_openid is documented as the page's last OpenID: an empty one after a page of data is no
  // end (only an answer without OpenIDs is); the list goes on after that last OpenID.
  const cursorIsLastOpenid = nextOpenid === '';
  return {
    openids,
    pieces: pieces ?? piecesOf(openids),
    total,
    nextOpenid: cursorIsLastOpenid ? (openids.at(-1) as string) : nextOpenid,
    cursorIsLastOpenid,
  };
}

/** Where a page without OpenIDs says it has none, as a message quotes it. */
function noOpenidsIn(data: unknown): string {
  if (data === undefined) return 'there is no `data`';
  if (data === null) return '`data` is null';
  if ((data as JsonObject)['openid'] === null) return '`data.openid` is null';
  return '`data.openid` holds no OpenID';
}

const OPENID_SHAPE = "letters, digits, '-' and '_', at most 64";

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
