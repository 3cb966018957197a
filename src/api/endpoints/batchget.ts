import { ExitCode, WxError, errcodeDetail, shown } from '../../errors.js';
import type { DetailsLanguage, FollowerInfo } from '../../openid.js';
import type { ApiClient, JsonObject } from '../client.js';

/** The API's limit for one batchget call. */
export const DETAILS_BATCH_SIZE = 100;

/** One batchget call: a row for each OpenID asked, in the order asked. */
export async function fetchDetails(
  client: ApiClient,
  openids: readonly string[],
  lang: DetailsLanguage,
  signal: AbortSignal,
): Promise<FollowerInfo[]> {
  try {
    // Read on every attempt, so that an inconsistent answer is asked again (batchget's quota is large).
    return await client.call(
      { method: 'POST', path: '/cgi-bin/user/info/batchget', body: { user_list: openids.map((openid) => ({ openid, lang })) } },
      (answer) => rowsOf(answer, openids),
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
