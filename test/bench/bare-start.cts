/**
 * The least a Node program built on this project's libraries can take for a small export: parse
 * its arguments with commander, load undici's pool and `request` (as the tool does, not its whole
 * index), walk the list and write the OpenIDs. No checks, no messages, no outputs but stdout. The
 * start-up rows compare the tool with it, so that what the libraries cost is told apart from what
 * our code costs. CommonJS, as the tool's bin, which starts faster than an ES module:
 * node bare-start.cjs BASE_URL TOKEN
 */
import { writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import type { Dispatcher, Pool } from 'undici';

const program = new Command('bare-start').argument('<base-url>').argument('<token>').parse(process.argv);
const [baseUrl, token] = program.args as [string, string];
// As the tool does: no background re-optimization of undici's WebAssembly parser to wait for.
setFlagsFromString('--liftoff-only');
const PoolClass = require('undici/lib/dispatcher/pool.js') as typeof Pool;
const request = require('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;
const pool = new PoolClass(baseUrl, { connections: 1 });
async function walk(): Promise<void> {
  let cursor = '';
  for (;;) {
    const query = new URLSearchParams({ access_token: token, ...(cursor === '' ? {} : { next_openid: cursor }) });
    const response = await request.call(pool, { origin: baseUrl, method: 'GET', path: `/cgi-bin/user/get?${query}` });
    const page = (await response.body.json()) as { count?: number; data?: { openid: string[] }; next_openid?: string };
    if (page.data === undefined || page.count === 0 || !page.next_openid) return;
    writeSync(1, `${page.data.openid.join('\n')}\n`);
    cursor = page.next_openid;
  }
}
void walk().then(() => process.exit(0));
