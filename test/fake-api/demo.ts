/**
 * `npm run demo`: the fake API with 23,000 followers on loopback, and a real export against it,
 * so that the tool can be tried without an Official Account.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FAKE_TOKEN, startFakeApi } from './server.js';

const bin = fileURLToPath(new URL('../../../bin/wx-followers.js', import.meta.url));
const output = 'demo-followers.csv';
const api = await startFakeApi({ followers: 23_000, emptyStringInFirstPage: true });
const args = ['export', '--format', 'csv', '--output', output, '--base-url', api.url];
process.stderr.write(`Fake WeChat API with 23,000 followers at ${api.url}\n`);
process.stderr.write(`$ WX_ACCESS_TOKEN=... wx-followers ${args.join(' ')}\n`);
const exitCode = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: 'inherit',
    env: { ...process.env, WX_ACCESS_TOKEN: FAKE_TOKEN },
  });
  child.on('close', (code) => resolve(code ?? 1));
});
await api.close();
if (exitCode !== 0) {
  process.stderr.write(`The export failed with exit code ${exitCode}.\n`);
  process.exit(exitCode);
}
const lines = (await readFile(output, 'utf8')).split('\n');
process.stdout.write(`${output}: ${lines.length - 2} followers after the header, in ${api.calls.length} API calls.\n`);
process.stdout.write(`${lines.slice(0, 4).join('\n')}\n...\n`);
