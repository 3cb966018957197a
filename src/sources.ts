import type { ApiClient } from './api/client.js';
import type { ListSource } from './pager.js';
import { fetchTags } from './tags.js';

/** A list of the account, named before there is a client to fetch it with (the state file keeps the name). */
export interface ListChoice {
  readonly description: string;
  source(client: ApiClient): ListSource;
}

/** The account's followers: `GET /cgi-bin/user/get`. */
export const followerList: ListChoice = {
  description: 'follower list',
  source: (client) => ({
    description: 'follower list',
    fetchPage: (cursor) =>
      client.call({
        method: 'GET',
        path: '/cgi-bin/user/get',
        // The first call must carry no next_openid at all: an empty one has been answered with 40003.
        query: cursor === undefined ? {} : { next_openid: cursor },
      }),
  }),
};

/** The followers carrying a tag: `POST /cgi-bin/user/tag/get`, whose answers carry no total. */
export function taggedFollowers(tagid: number): ListChoice {
  const description = `followers with tag ${tagid}`;
  return {
    description,
    source: (client) => ({
      description,
      fetchPage: (cursor) =>
        client.call({ method: 'POST', path: '/cgi-bin/user/tag/get', body: { tagid, next_openid: cursor ?? '' } }),
      // The tag list tells each tag's size; the pages of the tag do not.
      size: async () => (await fetchTags(client)).find((tag) => tag.id === tagid)?.count,
    }),
  };
}

/** The account's blacklist: `POST /cgi-bin/tags/members/getblacklist`. */
export const blacklist: ListChoice = {
  description: 'blacklist',
  source: (client) => ({
    description: 'blacklist',
    fetchPage: (cursor) =>
      client.call({ method: 'POST', path: '/cgi-bin/tags/members/getblacklist', body: { begin_openid: cursor ?? '' } }),
  }),
};
