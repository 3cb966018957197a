import type { ApiClient } from './api/client.js';
import type { ListSource } from './pager.js';

/** The account's followers: `GET /cgi-bin/user/get`. */
export function followerList(client: ApiClient): ListSource {
  return {
    description: 'follower list',
    fetchPage: (cursor) =>
      client.call({
        method: 'GET',
        path: '/cgi-bin/user/get',
        // The first call must carry no next_openid at all: an empty one has been answered with 40003.
        query: cursor === undefined ? {} : { next_openid: cursor },
      }),
  };
}
