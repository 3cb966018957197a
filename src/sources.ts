import type { ApiClient } from './api/client.js';
import type { ListSource } from './pager.js';

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
