import type { JsonObject } from '../api/client.js';
import type { ListSource } from '../api/lists.js';
import { counted, shown, ExitCode, WxError, errcodeDetail, malformedAnswer } from '../errors.js';
import { checkedPieces, piecesOf, type OpenidPiece } from '../openid.js';
import { isOpenidShape } from '../openid.js';

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
}

/**
 * Walks a list from the start, or after `startAfter`, one page at a time (after Octokit's
 * paginate.iterator). It holds one page at a time and knows nothing of outputs or progress.
 */
export async function* paginate(source: ListSource, startAfter?: string): AsyncGenerator<FollowerPage> {
  const { description } = source;
  let cursor = startAfter;
  // Every cursor of the run (a day's quota is some 500 calls): a cursor seen twice means a page
  // that was, or is about to be, written twice, however long the cycle (A -> B -> A).
  const seen = new Set<string>(cursor === undefined ? [] : [cursor]);
  for (;;) {
    let answer: JsonObject;
    // The check parses the answer the client accepts; kept, so that a page is parsed once.
    let checked: { answer: JsonObject; page: FollowerPage | undefined } | undefined;
    try {
      answer = await source.fetchPage(cursor, (raw) => {
        checked = { answer: raw, page: parseListAnswer(raw, description) };
      });
    } catch (error) {
      throw explainUnknownOpenid(error, description, cursor, startAfter);
    }
    const page = checked?.answer === answer ? checked.page : parseListAnswer(answer, description);
    if (page === undefined) return;
    if (seen.has(page.nextOpenid)) {
      const which = cursor === undefined ? `first page of the ${description}` : `page of the ${description} after ${cursor}`;
      const gave =
        answer['next_openid'] === ''
          ? `ended with ${page.nextOpenid} (its next_openid empty)`
          : `gave ${page.nextOpenid} as its next_openid`;
      throw new WxError(
        `The API's ${which} ${gave}, a cursor already seen in this run: ` +
          'its pages go round in a circle. Stopped before writing any page twice. Try again later.',
        ExitCode.Api,
      );
    }
    yield page;
    seen.add(page.nextOpenid);
    cursor = page.nextOpenid;
  }
}

/** 40003 names no OpenID: what it means depends on which one the call carried. */
function explainUnknownOpenid(error: unknown, description: string, cursor: string | undefined, startAfter: string | undefined): unknown {
  if (!(error instanceof WxError) || error.errcode !== 40003) return error;
  const detail = errcodeDetail(error.errcode, error.errmsg);
  const details = { errcode: error.errcode, errmsg: error.errmsg, cause: error };
  if (cursor === undefined) {
    return new WxError(
      `The API refused the first page of the ${description} as if it named an unknown OpenID (${detail}), though it named none. Try again later.`,
      ExitCode.Api,
      details,
    );
  }
  if (cursor === startAfter) {
    return new UnknownStartError(
      `The API does not know ${cursor}, the OpenID the ${description} was to go on after (${detail}): it is not an OpenID of this list of this account.`,
      details,
    );
  }
  return new WxError(
    `The API refused ${cursor}, the cursor its own previous page of the ${description} gave (${detail}). Try again later.`,
    ExitCode.Api,
    details,
  );
}

/** The cursor the walk started after is unknown to the API: going on from it again is no way on. */
export class UnknownStartError extends WxError {
  constructor(message: string, details: { errcode?: number; errmsg?: string; cause?: unknown }) {
    super(message, ExitCode.Api, details);
  }
}

/**
 * Undefined where the answer ends the list: no OpenIDs and a `count` of 0, as the API's last
 * answer (`{"total":N,"count":0,"next_openid":""}`). Anything that contradicts itself is malformed,
 * and retried like a failed call: taken for the end, it would end an export short without a word.
 */
function parseListAnswer(answer: JsonObject, description: string): FollowerPage | undefined {
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
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null) throw malformed('`data` is not an object');
    const list = (data as JsonObject)['openid'];
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
    throw malformed(
      data === undefined ? `\`count\` is ${count}, but there is no \`data\`` : `\`count\` is ${count}, but \`data.openid\` holds no OpenID`,
    );
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
  return { openids, pieces: pieces ?? piecesOf(openids), total, nextOpenid: nextOpenid === '' ? (openids.at(-1) as string) : nextOpenid };
}

const OPENID_SHAPE = "letters, digits, '-' and '_', at most 64";

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
