import type { ApiClient, ApiRequest, JsonObject } from './client.js';
import { describeList, type FollowerList } from '../openid.js';
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

/** The list a plan names, on this client: its page requests, and where else its size can be learnt. */
export function listSource(list: FollowerList, client: ApiClient): ListSource {
  const description = describeList(list);
  const request = pageRequest(list);
  return {
    description,
    fetchPage: (cursor, check, signal) => client.call({ ...request(cursor), check }, signal),
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
