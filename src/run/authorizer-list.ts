import type { ApiClient } from '../api/client.js';
import { AUTHORIZER_PAGE_SIZE, type AuthorizerEntry, fetchAuthorizerPage } from '../api/endpoints/component.js';

/**
 * The walk of api_get_authorizer_list that `accounts` and `export --authorized` share: a page of
 * 500 at a time, each account once (the list may shift while it is read: an account authorizing
 * meanwhile pushes one of the last page onto the next), until a page comes back short or the
 * total is reached. Each refresh token goes to `onSecret` as its page is read.
 */
export async function* authorizerPages(
  client: ApiClient,
  componentAppid: string,
  onSecret: (secret: string) => void,
  signal?: AbortSignal,
): AsyncGenerator<AuthorizerEntry[]> {
  const seen = new Set<string>();
  for (let offset = 0; ; ) {
    signal?.throwIfAborted();
    const page = await fetchAuthorizerPage(client, { componentAppid, offset }, onSecret);
    const fresh = page.entries.filter((entry) => !seen.has(entry.appid));
    for (const entry of fresh) seen.add(entry.appid);
    yield fresh;
    offset += page.entries.length;
    // A short page is the last: the total may change while the list is read.
    if (page.entries.length < AUTHORIZER_PAGE_SIZE || offset >= page.totalCount) return;
  }
}

/** Every account of the list, in its order. */
export async function allAuthorizers(
  client: ApiClient,
  componentAppid: string,
  onSecret: (secret: string) => void,
  signal?: AbortSignal,
): Promise<AuthorizerEntry[]> {
  const entries: AuthorizerEntry[] = [];
  for await (const page of authorizerPages(client, componentAppid, onSecret, signal)) entries.push(...page);
  return entries;
}
