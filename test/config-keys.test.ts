/**
 * The config's keys, in-process: an unknown key is told every key there is, and `db` is taken at
 * the top level (a single account's database), where sync and changes find it after --db and WX_DB.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planConfig, type ConfigFlags } from '../src/plan/config.js';
import { planSync } from '../src/plan/sync.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const APPID = 'wx1234567890abcdef';

async function refusal(flags: ConfigFlags, dir: string): Promise<string> {
  return usageOf(planConfig(flags, testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir })));
}

describe('config keys', () => {
  it('an unknown key, at the top level or in a profile, is told every key (the platform keys, db, default-profile, those of a profile)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { shop: { appid: APPID } } }));
    const every =
      'The keys are: access-token, appid, secret, base-url, proxy, token-command, token-url, component-appid, component-token-command, component-token-url, authorizer-token-command, authorizer-token-url, db, default-profile (of the whole config); in a profile also output, state, time-zone; token-cache (get and unset only).';
    expect(await refusal({ action: 'set', key: 'nosuchkey', value: 'x' }, dir)).toBe(`Unknown config key 'nosuchkey'. ${every}`);
    expect(await refusal({ action: 'get', key: 'nosuchkey', reveal: false, profile: 'shop' }, dir)).toBe(
      `Unknown key 'nosuchkey' for profile shop. ${every}`,
    );
    expect(await refusal({ action: 'set', key: 'output', value: 'x.txt' }, dir)).toMatch(/^output is a setting of a profile/);
  });

  it('takes db at the top level: sync and changes use it after --db and WX_DB; a profile does not inherit it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles: { shop: { appid: APPID } } }));
    const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
    expect(await planConfig({ action: 'set', key: 'db', value: join(dir, 'top.db') }, io)).toMatchObject({
      action: 'set',
      key: 'db',
      profile: undefined,
    });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ db: join(dir, 'top.db'), profiles: { shop: { appid: APPID } } }));
    const planned = (env: NodeJS.ProcessEnv, profile?: string) =>
      planSync(
        { progress: false, accessToken: 'plan-test-token', appid: APPID, ...(profile === undefined ? {} : { profile }) },
        testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir, ...env }),
      );
    expect((await planned({})).database).toMatchObject({ target: join(dir, 'top.db'), origin: 'config key db' });
    expect((await planned({ WX_DB: join(dir, 'env.db') })).database.origin).toBe('WX_DB');
    expect((await planned({}, 'shop')).database).toMatchObject({ target: 'wx-followers.db', origin: 'the default' });
    expect((await readdir(dir)).sort()).toEqual(['config.json']);
  });
});
