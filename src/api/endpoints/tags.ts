import type { ApiClient, JsonObject } from '../client.js';
import { malformedAnswer, type WxError } from '../../errors.js';
import type { Tag } from '../../openid.js';

/** `GET /cgi-bin/tags/get`: the account's tags, at most 100. */
export function fetchTags(client: ApiClient): Promise<Tag[]> {
  return client.call({ method: 'GET', path: '/cgi-bin/tags/get' }, parseTags);
}

function parseTags(answer: JsonObject): Tag[] {
  const list = answer['tags'];
  if (!Array.isArray(list)) throw malformed('`tags` is not a list');
  return list.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw malformed('a tag is not an object');
    const { id, name, count } = entry as JsonObject;
    if (typeof id !== 'number' || typeof name !== 'string' || typeof count !== 'number') {
      throw malformed('a tag lacks its id, name or count');
    }
    return { id, name, count };
  });
}

function malformed(what: string): WxError {
  return malformedAnswer('to /cgi-bin/tags/get', what);
}
