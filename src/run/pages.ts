import type { FollowerPage, ListSource } from '../api/endpoints/lists.js';
import { ExitCode, WxError, errcodeDetail } from '../errors.js';

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
    let page: FollowerPage | undefined;
    try {
      page = await source.fetchPage(cursor);
    } catch (error) {
      throw explainUnknownOpenid(error, description, cursor, startAfter);
    }
    if (page === undefined) return;
    if (seen.has(page.nextOpenid)) {
      const which = cursor === undefined ? `first page of the ${description}` : `page of the ${description} after ${cursor}`;
      const gave = page.cursorIsLastOpenid
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

/**
 * 40003 (an OpenID the API does not know) and 49003 (an OpenID of another account) name no
 * OpenID: what they mean depends on which one the call carried.
 */
function explainUnknownOpenid(error: unknown, description: string, cursor: string | undefined, startAfter: string | undefined): unknown {
  if (!(error instanceof WxError) || (error.errcode !== 40003 && error.errcode !== 49003)) return error;
  const otherAccount = error.errcode === 49003;
  const detail = errcodeDetail(error.errcode, error.errmsg);
  const details = { errcode: error.errcode, errmsg: error.errmsg, cause: error };
  if (cursor === undefined) {
    const named = otherAccount ? "another account's OpenID" : 'an unknown OpenID';
    return new WxError(
      `The API refused the first page of the ${description} as if it named ${named} (${detail}), though it named none. Try again later.`,
      ExitCode.Api,
      details,
    );
  }
  if (cursor === startAfter) {
    const unknown = otherAccount
      ? `The API says ${cursor}, the OpenID the ${description} was to go on after, belongs to another account (${detail}): it comes from another account's export.`
      : `The API does not know ${cursor}, the OpenID the ${description} was to go on after (${detail}): it is not an OpenID of this list of this account.`;
    return new UnknownStartError(unknown, { ...details, otherAccount });
  }
  if (otherAccount) {
    // The cursor came from this run's own previous page: the account changed under the run.
    return new WxError(
      `The API says ${cursor}, the cursor its own previous page of the ${description} gave, belongs to another account (${detail}): ` +
        'the access token changed accounts during the run. A token given (--access-token, WX_ACCESS_TOKEN, the config) and the AppID it is renewed from must be of the same account: check both.',
      ExitCode.Api,
      details,
    );
  }
  return new WxError(
    `The API refused ${cursor}, the cursor its own previous page of the ${description} gave (${detail}). Try again later.`,
    ExitCode.Api,
    details,
  );
}

/** The cursor the walk started after is unknown to the API, or another account's: going on from it again is no way on. */
export class UnknownStartError extends WxError {
  /** 49003: the cursor is an OpenID of another account, not one this account's list lost. */
  readonly otherAccount: boolean;

  constructor(message: string, details: { errcode?: number; errmsg?: string; cause?: unknown; otherAccount: boolean }) {
    super(message, ExitCode.Api, details);
    this.otherAccount = details.otherAccount;
  }
}
