/**
 * The floor of an export: the least any exporter must do to write the tool's bytes. Fetch every
 * page with undici's `request`, parse it, join its OpenIDs as the format lays them out, write them
 * to stdout; no checks, no messages, one page at a time. Its own process, like the tool:
 * node floor.js BASE_URL TOKEN FORMAT (text | csv | ndjson)
 */
import { once } from 'node:events';
import { request } from 'undici';

/** What the tool writes for a format: a header, then each page's OpenIDs. */
const LAYOUTS: Record<string, { header: string; page: (openids: string[]) => string }> = {
  text: { header: '', page: (openids) => `${openids.join('\n')}\n` },
  csv: { header: 'openid\n', page: (openids) => `${openids.join('\n')}\n` },
  ndjson: { header: '', page: (openids) => `{"openid":"${openids.join('"}\n{"openid":"')}"}\n` },
};

const [baseUrl, token, format = 'text'] = process.argv.slice(2);
const layout = LAYOUTS[format];
if (baseUrl === undefined || token === undefined || layout === undefined) throw new Error('usage: floor.js BASE_URL TOKEN text|csv|ndjson');

const write = async (text: string): Promise<void> => {
  if (text !== '' && !process.stdout.write(text)) await once(process.stdout, 'drain');
};

await write(layout.header);
let cursor: string | undefined;
for (;;) {
  const query = new URLSearchParams({ access_token: token, ...(cursor === undefined ? {} : { next_openid: cursor }) });
  const response = await request(`${baseUrl}/cgi-bin/user/get?${query}`);
  const page = (await response.body.json()) as { count?: number; data?: { openid: string[] }; next_openid?: string };
  if (page.data === undefined || page.count === 0) break;
  await write(layout.page(page.data.openid));
  if (!page.next_openid) break;
  cursor = page.next_openid;
}
