/**
 * `npm run demo`: the fake API with 23,000 followers on loopback, and a real export against it,
 * so that the tool can be tried without an Official Account. `npm run demo -- --serve` keeps the
 * fake running (with two tags and a blacklist) for trying any command against it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { everyNth, generatedFollowers } from './followers.js';
import { serveInstructions } from './demo-instructions.js';
import { FAKE_TOKEN, startFakeApi } from './server.js';
import { demoPlatform } from './platform.js';

/**
 * Stops the fake and ends the process on SIGINT, SIGTERM or SIGHUP (exit 0: asked to stop), and
 * when the process that started it goes away. `npm run demo` runs `sh -c 'npm run build && ... &&
 * node demo.js'`, and npm forwards a SIGTERM to that shell, which dies of it without passing it
 * on: this process is left behind, its parent changed (to init or a subreaper). A second signal
 * ends it at once, should closing hang.
 */
function stopWhenAsked(stop: () => Promise<void>): void {
  const parent = process.ppid;
  const stopping = { now: false };
  const finish = (): void => {
    if (stopping.now) process.exit(0);
    stopping.now = true;
    void stop().finally(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, finish);
  // Windows keeps the parent's pid: there, the console's Ctrl-C and closing its window reach this process.
  setInterval(() => {
    if (process.ppid !== parent) finish();
  }, 200).unref();
}

if (process.argv.includes('--serve')) {
  const followers = generatedFollowers(23_000);
  const api = await startFakeApi({
    followers,
    tags: [
      { id: 2, name: '星标组', members: everyNth(followers, 100) },
      { id: 134, name: '北京', members: everyNth(followers, 3, 1) },
    ],
    blacklist: everyNth(followers, 50, 7),
    // A third-party platform beside the account, for `accounts` and a platform profile.
    platform: demoPlatform(generatedFollowers),
    // A stable token lives ten calls here, so that an export with the AppID and AppSecret shows renewal.
    tokenLifetimeCalls: 10,
  });
  process.stderr.write(serveInstructions(api.url));
  stopWhenAsked(() => api.close());
  await new Promise(() => undefined);
}

const bin = fileURLToPath(new URL('../../../bin/wx-followers.cjs', import.meta.url));
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
