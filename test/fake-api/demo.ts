/**
 * `npm run demo`: the fake API with 23,000 followers on loopback, and a real export against it,
 * so that the tool can be tried without an Official Account. `npm run demo -- --serve` keeps the
 * fake running (with two tags and a blacklist) for trying any command against it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { everyNth, generatedFollowers } from './followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, startFakeApi } from './server.js';

if (process.argv.includes('--serve')) {
  const followers = generatedFollowers(23_000);
  const api = await startFakeApi({
    followers,
    tags: [
      { id: 2, name: '星标组', members: everyNth(followers, 100) },
      { id: 134, name: '北京', members: everyNth(followers, 3, 1) },
    ],
    blacklist: everyNth(followers, 50, 7),
    // A stable token lives ten calls here, so that an export with the AppID and AppSecret shows renewal.
    tokenLifetimeCalls: 10,
  });
  process.stderr.write(
    `Fake WeChat API with 23,000 followers, tags 2 and 134, and a blacklist, at ${api.url}. In another shell:\n` +
      `  export WX_API_BASE_URL=${api.url} WX_ACCESS_TOKEN=${FAKE_TOKEN}\n` +
      `  node bin/wx-followers.js tags\n  node bin/wx-followers.js export --with-info --limit 500 | head\n` +
      `Or the fake account's AppID and AppSecret instead of a token, to try \`token\`, \`config set\` and renewal (its stable tokens live 10 calls):\n` +
      `  unset WX_ACCESS_TOKEN; export WX_API_BASE_URL=${api.url} WX_APPID=${FAKE_APPID} WX_SECRET=${FAKE_SECRET}\n` +
      `  node bin/wx-followers.js token\n` +
      `  node bin/wx-followers.js config set appid ${FAKE_APPID}   # and: config set secret -   (paste ${FAKE_SECRET})\n` +
      'Ctrl-C stops it.\n',
  );
  process.on('SIGINT', () => void api.close().then(() => process.exit(0)));
  await new Promise(() => undefined);
}

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
