import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, generatedFollowers } from './fake-api/followers.js';
import type { FakeAccount } from './fake-api/server.js';
import { cleanEnv, lines, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { configWith, threeAccounts } from './helpers/accounts.js';

const fake = useFakes();

async function cli(dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env: cleanEnv(dir, env), cwd: dir });
}

describe('config profiles', () => {
  it('set, get, list (secrets masked), profiles, and unset --profile (--yes off a terminal) keep the top-level keys as they are', async () => {
    const dir = await tempDir();
    expect((await cli(dir, ['config', 'set', 'appid', 'wx0000000000000000'])).code).toBe(0);
    expect((await cli(dir, ['config', '--profile', 'shop', 'set', 'appid', 'wx1111111111111111'])).code).toBe(0);
    expect(
      (await runCli(['config', 'set', '--profile', 'shop', 'secret', '-'], { env: cleanEnv(dir), stdin: 'SHOP_SECRET_0123456789\n' })).code,
    ).toBe(0);
    expect((await cli(dir, ['config', 'set', '--profile', 'news', 'output', 'out/{profile}.txt'])).code).toBe(0);
    expect((await cli(dir, ['config', 'set', 'default-profile', 'shop'])).code).toBe(0);
    const list = await cli(dir, ['config', 'list']);
    expect(list.stdout.toString()).toBe(
      'appid=wx0000000000000000\ndefault-profile=shop\n[shop]\nappid=wx1111111111111111\nsecret=********\n[news]\noutput=out/{profile}.txt\n',
    );
    expect(list.stdout.toString()).not.toContain('SHOP_SECRET');
    expect((await cli(dir, ['config', 'profiles'])).stdout.toString()).toBe('shop\nnews\n');
    expect((await cli(dir, ['config', 'get', 'appid'])).stdout.toString()).toBe('wx0000000000000000\n');
    expect((await cli(dir, ['config', '--profile', 'shop', 'get', 'secret', '--reveal'])).stdout.toString()).toBe(
      'SHOP_SECRET_0123456789\n',
    );

    const unasked = await cli(dir, ['config', 'unset', '--profile', 'shop']);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/--yes/);
    const removed = await cli(dir, ['config', 'unset', '--profile', 'shop', '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toMatch(/default-profile is unset too/);
    const stored = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(stored).toEqual({ appid: 'wx0000000000000000', profiles: { news: { output: 'out/{profile}.txt' } } });
  });

  it('refuse an unknown profile with exit 2 naming those there are, and keys of a profile outside one', async () => {
    const dir = await tempDir();
    await cli(dir, ['config', '--profile', 'shop', 'set', 'appid', 'wx1111111111111111']);
    for (const args of [
      ['config', '--profile', 'nope', 'get', 'appid'],
      ['config', 'set', 'default-profile', 'nope'],
      ['export', '--profile', 'nope'],
      ['export', '--profiles', 'shop,nope', '-o', '{profile}.txt'],
    ]) {
      const result = await cli(dir, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/No profile named 'nope' .*Its profiles are: shop\./);
    }
    const topLevel = await cli(dir, ['config', 'set', 'output', 'x.txt']);
    expect(topLevel.code).toBe(2);
    expect(topLevel.stderr).toMatch(/output is a setting of a profile/);
    const badName = await cli(dir, ['config', '--profile', '../up', 'set', 'appid', 'wx1111111111111111']);
    expect(badName.code).toBe(2);
  });
});

describe('export --profile', () => {
  it("takes the profile's credentials and output (from --profile, WX_PROFILE or default-profile); two profiles of one AppID share its cached token", async () => {
    const accounts = threeAccounts(30);
    const api = await fake({ accounts });
    const dir = await tempDir();
    await configWith(dir, api, [accounts[0], accounts[1], accounts[0]] as FakeAccount[], ['shop', 'news', 'shop2']);
    await cli(dir, ['config', '--profile', 'news', 'set', 'output', '{profile}-{appid}.txt']);
    const shop = await cli(dir, ['export', '--profile', 'shop']);
    expect(shop.code).toBe(0);
    expect(shop.stdout.toString()).toBe(lines(allOpenids(accounts[0]?.followers ?? generatedFollowers(0))));
    const news = await cli(dir, ['export'], { WX_PROFILE: 'news' });
    expect(news.code).toBe(0);
    expect(await readFile(join(dir, `news-${accounts[1]?.appid}.txt`), 'utf8')).toBe(
      lines(allOpenids(accounts[1]?.followers ?? generatedFollowers(0))),
    );
    const tokenCalls = api.calls.filter((call) => call.path === '/cgi-bin/stable_token').length;
    await cli(dir, ['config', 'set', 'default-profile', 'shop2']);
    const shop2 = await cli(dir, ['export']);
    expect(shop2.stdout.toString()).toBe(shop.stdout.toString());
    // The token shop got is cached under its AppID: shop2, of the same AppID, asks for none.
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token')).toHaveLength(tokenCalls);
  });
});
