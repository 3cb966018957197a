/**
 * The floor: the least any exporter must do. Fetch every page with undici's request, parse it,
 * drop it. Run as its own process, like the tool: node floor.js BASE_URL TOKEN
 */
import { request } from 'undici';

const [baseUrl, token] = process.argv.slice(2);
if (baseUrl === undefined || token === undefined) throw new Error('usage: floor.js BASE_URL TOKEN');
let cursor: string | undefined;
for (;;) {
  const query = new URLSearchParams({ access_token: token, ...(cursor === undefined ? {} : { next_openid: cursor }) });
  const response = await request(`${baseUrl}/cgi-bin/user/get?${query}`);
  const page = (await response.body.json()) as { count?: number; data?: { openid: string[] }; next_openid?: string };
  if (page.data === undefined || page.count === 0 || !page.next_openid) break;
  cursor = page.next_openid;
}
