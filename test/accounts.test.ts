import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import type { FakeAccount, FakeApi } from './fake-api/server.js';
import { BIN, cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { configWith, threeAccounts } from './helpers/accounts.js';

const fake = useFakes();

async function cli(dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env: cleanEnv(dir, env), cwd: dir });
}

function callsOf(api: FakeApi, appid: string): number {
  return api.accountCounts(appid).calls;
}

describe('export --profiles', () => {
  it('exports each account; one refused (3) and one out of quota (4) are reported and the others go on; exit 3; the summary on stderr and as NDJSON', async () => {
    const [shop, news, promo] = threeAccounts() as [FakeAccount, FakeAccount, FakeAccount];
    const api = await fake({ accounts: [shop, { ...news, refused: true }, { ...promo, dailyQuota: 2 }], pageSize: 50 });
    const dir = await tempDir();
    await configWith(dir, api, [shop, news, promo]);
    // A third-party platform's profile, which has no followers of its own: left out, said once.
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { profiles: Record<string, object> };
    config.profiles['agency'] = { 'component-appid': 'wxc0c0c0c0c0c0c0c0', 'component-token-command': 'echo never-run' };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const result = await cli(dir, [
      'export',
      '--all-profiles',
      '-o',
      '{profile}.txt',
      '--state',
      '{profile}.state',
      '--summary',
      'summary.ndjson',
    ]);
    expect(result.code).toBe(3);
    expect(await readFile(join(dir, 'shop.txt'), 'utf8')).toBe(lines(allOpenids(shop.followers)));
    expect(result.stderr.match(/--all-profiles leaves out/g)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^wx-followers: --all-profiles leaves out agency, a third-party platform's profile \(component keys, no account of its own\)\. Export the accounts that authorized it with `wx-followers export --authorized --profile agency`/m,
    );
    expect(result.stderr).toMatch(/^wx-followers \[news\]: .*AppSecret/m);
    expect(result.stderr).toMatch(/^wx-followers \[promo\]: .*quota/m);
    expect(result.stderr).toMatch(
      /\nwx-followers: 1 of 3 accounts finished:\n {2}shop: done, 250 OpenIDs in shop\.txt\n {2}news: failed \(exit 3\) after 0 OpenIDs: .+\n {2}promo: failed \(exit 4\) after 100 OpenIDs; it goes on after \S+: .+quota.+\n$/,
    );
    const summary = (await readFile(join(dir, 'summary.ndjson'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(summary.map(({ profile, status, exitCode, written }) => ({ profile, status, exitCode, written }))).toEqual([
      { profile: 'shop', status: 'done', exitCode: 0, written: 250 },
      { profile: 'news', status: 'failed', exitCode: 3, written: 0 },
      { profile: 'promo', status: 'failed', exitCode: 4, written: 100 },
    ]);
    expect(summary[2]?.['cursor']).toBe(promo.followers.at(99));
    expect(result.stderr + JSON.stringify(summary)).not.toMatch(/SECRET_OF|FAKE_STABLE_TOKEN/);
  });

  it('a rerun with the same --state template goes on for the unfinished accounts only, then all start again', async () => {
    const [shop, news] = threeAccounts() as [FakeAccount, FakeAccount];
    const api = await fake({ accounts: [shop, { ...news, dailyQuota: 2 }], pageSize: 50 });
    const dir = await tempDir();
    await configWith(dir, api, [shop, news]);
    const args = ['export', '--profiles', 'shop,news', '-o', '{appid}.txt', '--state', '{profile}.state'];
    expect((await cli(dir, args)).code).toBe(4);
    const shopCalls = callsOf(api, shop.appid);
    let rerun: CliResult | undefined;
    for (let day = 0; day < 4 && rerun?.code !== 0; day += 1) {
      api.newDay();
      rerun = await cli(dir, args);
      expect(rerun.stderr).toMatch(/^ {2}shop: done by an earlier run/m);
    }
    expect(rerun?.code).toBe(0);
    expect(await readFile(join(dir, `${news.appid}.txt`), 'utf8')).toBe(lines(allOpenids(news.followers)));
    expect(callsOf(api, shop.appid)).toBe(shopCalls);
    // Every account done: the next run is a new batch, shop included.
    api.newDay();
    await cli(dir, args);
    expect(callsOf(api, shop.appid)).toBeGreaterThan(shopCalls);
  });

  it.each([
    [['-o', 'all.txt'], /--output all\.txt would be the same file for every account/],
    [['-o', '{profile}.txt', '--state', 'one.state'], /--state one\.state would be the same file/],
    [[], /Profile shop would export to stdout/],
    [['-o', '{appid}.txt'], /would both use .*wx1111111111111111\.txt/],
    [['-o', '{profile}-{day}.txt'], /\{day\} is not a placeholder/],
    [['-o', '{profile}.txt', '--resume', 'oAAAAAAAAAAAAAAAAAAAAAAAAAAA'], /--resume names one account's cursor/],
    [['-o', '{profile}.txt', '--accounts-concurrency', '9'], /--accounts-concurrency/],
  ])('refuses %j with exit 2 before any call, creating nothing', async (extra, message) => {
    const [shop] = threeAccounts(10) as [FakeAccount];
    const api = await fake({ accounts: [shop] });
    const dir = await tempDir();
    // Two profiles of one AppID: {appid} alone would give them one file.
    await configWith(dir, api, [shop, shop], ['shop', 'shop2']);
    const result = await cli(dir, ['export', '--all-profiles', ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(api.calls).toHaveLength(0);
    expect((await readdir(dir)).sort()).toEqual(['config.json']);
  });

  it('refuses credentials given on the command line or in the environment: they would serve every account', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { shop: { appid: 'wx1111111111111111' } } }));
    const result = await cli(dir, ['export', '--profiles', 'shop', '-o', '{profile}.txt'], { WX_ACCESS_TOKEN: 'SOME_TOKEN_0123456789' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/WX_ACCESS_TOKEN is set/);
  });

  it('fills {date} with the day in China Standard Time, or in the profile time-zone', async () => {
    const accounts = threeAccounts(5);
    const api = await fake({ accounts });
    const dir = await tempDir();
    await configWith(dir, api, accounts);
    // A day apart at every hour: a zone left unread shows in one of them.
    await cli(dir, ['config', '--profile', 'news', 'set', 'time-zone', 'Pacific/Kiritimati']);
    await cli(dir, ['config', '--profile', 'promo', 'set', 'time-zone', 'Pacific/Pago_Pago']);
    const day = (zone: string): string => new Date().toLocaleDateString('en-CA', { timeZone: zone });
    const result = await cli(dir, ['export', '--all-profiles', '-o', '{profile}-{date}.txt']);
    expect(result.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(
      [
        'config.json',
        `shop-${day('Asia/Shanghai')}.txt`,
        `news-${day('Pacific/Kiritimati')}.txt`,
        `promo-${day('Pacific/Pago_Pago')}.txt`,
      ].sort(),
    );
  });

  it('runs --accounts-concurrency accounts at once, each on a connection of its own', async () => {
    const accounts = threeAccounts(400);
    for (const [concurrency, peak] of [
      ['1', 1],
      ['2', 2],
    ] as const) {
      const api = await fake({ accounts, pageSize: 20, latencyMs: 5 });
      const dir = await tempDir();
      await configWith(dir, api, accounts);
      const result = await cli(dir, ['export', '--all-profiles', '-o', '{profile}.txt', '--accounts-concurrency', concurrency]);
      expect(result.code).toBe(0);
      expect(api.peakAccountsInFlight()).toBe(peak);
      for (const account of accounts) expect(api.accountCounts(account.appid).connections).toBe(1);
    }
  });

  it.runIf(process.platform !== 'win32')('Ctrl-C stops every account cleanly, each with its cursor in the summary; exit 130', async () => {
    const accounts = threeAccounts(400);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const api = await fake({
      accounts,
      pageSize: 20,
      // The second page of each account waits: all three are under way when the signal comes.
      fault: (call) =>
        call.path === '/cgi-bin/user/get' && call.query.get('next_openid') !== null ? { kind: 'hold', until: held } : undefined,
    });
    const dir = await tempDir();
    await configWith(dir, api, accounts);
    const child = spawn(
      process.execPath,
      [BIN, 'export', '--all-profiles', '-o', '{profile}.txt', '--state', '{profile}.state', '--accounts-concurrency', '3'],
      {
        env: cleanEnv(dir),
        cwd: dir,
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    while (api.calls.filter((call) => call.query.get('next_openid') !== null).length < 3)
      await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGINT');
    while (!stderr.includes('finishes its page in hand')) await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    expect(await exited).toBe(130);
    for (const name of ['shop', 'news', 'promo'])
      expect(stderr).toMatch(new RegExp(`^ {2}${name}: interrupted \\(exit 130\\) after \\d+ OpenIDs; it goes on after \\S+`, 'm'));
  });
});
