/**
 * A small export written the ordinary way with this project's libraries: an ES module that parses
 * its arguments with commander, walks the list with undici's `request` and writes the OpenIDs a
 * line each. No checks, no messages, no tuning of its start-up (the tool's compile cache, its
 * CommonJS bundle and its early answers are the tool's own). The start-up rows hold the tool's
 * 1,000-follower export against it: node ordinary.js BASE_URL TOKEN
 */
import { Command } from 'commander';
import { request } from 'undici';

const program = new Command('ordinary').argument('<base-url>').argument('<token>').parse();
const [baseUrl, token] = program.args as [string, string];

let cursor = '';
for (;;) {
  const query = new URLSearchParams({ access_token: token, ...(cursor === '' ? {} : { next_openid: cursor }) });
  const { body } = await request(`${baseUrl}/cgi-bin/user/get?${query}`);
  const page = (await body.json()) as { count?: number; data?: { openid: string[] }; next_openid?: string };
  if (page.data === undefined || page.count === 0) break;
  process.stdout.write(`${page.data.openid.join('\n')}\n`);
  if (!page.next_openid) break;
  cursor = page.next_openid;
}
