import type { ApiClient, ApiRequest, JsonObject } from './client.js';
import { fetchTags } from './tags.js';

/** A paged list of the API: the lists differ only in the request that fetches a page. */
export interface ListSource {
  /** What the list is, for messages ("follower list"). */
  readonly description: string;
  /**
   * Fetches the page after `cursor`, or the first page when it is undefined. `check` throws for
   * an answer that will not do: the client runs it on every attempt, so that its retries apply.
   * `signal` aborts the call (the page read ahead, when the export stops).
   */
  fetchPage(cursor: string | undefined, check?: (answer: JsonObject) => void, signal?: AbortSignal): Promise<JsonObject>;
  /** The list's size from elsewhere, for a list whose pages do not tell it (a tag's). */
  size?(): Promise<number | undefined>;
}

/** A list of the account, named before there is a client to fetch it with (the state file keeps the name). */
export interface ListChoice {
  readonly description: string;
  source(client: ApiClient): ListSource;
}

/**
 * The lists differ only in the request for the page after `cursor` (undefined: the first page),
 * and in where else their size can be learnt.
 */
function list(
  description: string,
  request: (cursor: string | undefined) => ApiRequest,
  size?: (client: ApiClient) => Promise<number | undefined>,
): ListChoice {
  return {
    description,
    source: (client) => ({
      description,
      fetchPage: (cursor, check, signal) => client.call({ ...request(cursor), check }, signal),
      ...(size === undefined ? {} : { size: () => size(client) }),
    }),
  };
}

/** The account's followers: `GET /cgi-bin/user/get`. */
export const followerList: ListChoice = list('follower list', (cursor): ApiRequest => {
  // The first call must carry no next_openid at all: an empty one has been answered with 40003.
  const query: Record<string, string> = cursor === undefined ? {} : { next_openid: cursor };
  return { method: 'GET', path: '/cgi-bin/user/get', query };
});

/** The followers carrying a tag: `POST /cgi-bin/user/tag/get`, whose answers carry no total. */
export function taggedFollowers(tagid: number): ListChoice {
  return list(
    `followers with tag ${tagid}`,
    (cursor) => ({ method: 'POST', path: '/cgi-bin/user/tag/get', body: { tagid, next_openid: cursor ?? '' } }),
    // The tag list tells each tag's size; the pages of the tag do not.
    async (client) => (await fetchTags(client)).find((tag) => tag.id === tagid)?.count,
  );
}

/** The account's blacklist: `POST /cgi-bin/tags/members/getblacklist`. */
export const blacklist: ListChoice = list('blacklist', (cursor) => ({
  method: 'POST',
  path: '/cgi-bin/tags/members/getblacklist',
  body: { begin_openid: cursor ?? '' },
}));
