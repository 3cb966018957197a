/**
 * A third-party platform's profile (component keys, no account credentials) among the profiles:
 * --all-profiles leaves it out, --profiles naming it and --profile alone on an account's command
 * point to `export --authorized`. In-process, before any call.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planAccounts } from '../src/plan/accounts.js';
import { planChecks } from '../src/plan/check.js';
import { planExport } from '../src/plan/export.js';
import { planSyncAccounts } from '../src/plan/sync.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, type TestStreams, usageOf } from './helpers/io.js';

const SHOP = { appid: 'wx1111111111111111', secret: 'SECRET_OF_SHOP_0123456789', 'base-url': 'http://127.0.0.1:9' };
const AGENCY = { 'component-appid': 'wxc0c0c0c0c0c0c0c0', 'component-token-url': 'https://platform.example/component-token' };
/** Component keys beside an account's own credentials: an account's profile still. */
const BOTH = { ...SHOP, appid: 'wx2222222222222222', ...AGENCY };

async function streamsWith(profiles: Record<string, object>): Promise<TestStreams> {
  const dir = await tempDir();
  await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles }));
  return testStreams({ WX_FOLLOWERS_CONFIG_DIR: dir, HOME: dir });
}

describe("a platform's profile among the profiles", () => {
  it('--all-profiles leaves it out, for export and check alike; a profile with both kinds of keys is an account', async () => {
    const io = await streamsWith({ shop: SHOP, agency: AGENCY, both: BOTH });
    const exported = await planAccounts({ progress: false, allProfiles: true, output: '{profile}.txt' }, io);
    expect(exported.accounts.map((account) => account.profile)).toEqual(['shop', 'both']);
    expect(exported.platformsLeftOut).toEqual(['agency']);
    const checked = await planChecks({ allProfiles: true }, io);
    expect(checked.checks.map((check) => check.profile)).toEqual(['shop', 'both']);
    expect(checked.platformsLeftOut).toEqual(['agency']);
    const synced = await planSyncAccounts({ progress: false, allProfiles: true, db: join(await tempDir(), 'f.db') }, io);
    expect(synced.accounts.map((account) => account.profile)).toEqual(['shop', 'both']);
    expect(synced.platformsLeftOut).toEqual(['agency']);
  });

  it('--profiles naming it, --all-profiles with nothing else, and --profile on an export are exit 2 pointing to export --authorized', async () => {
    const io = await streamsWith({ shop: SHOP, agency: AGENCY });
    const named =
      /^--profiles: profile agency is a third-party platform's \(component keys, no account credentials\), .*`wx-followers export --authorized --profile agency`/;
    expect(await usageOf(planAccounts({ progress: false, profiles: 'shop,agency', output: '{profile}.txt' }, io))).toMatch(named);
    const checked = await usageOf(planChecks({ profiles: 'agency' }, io));
    expect(checked).toMatch(named);
    expect(checked).toMatch(/Check it with `wx-followers check --profile agency`/);
    const onlyPlatforms = await streamsWith({ agency: AGENCY, other: AGENCY });
    expect(await usageOf(planAccounts({ progress: false, allProfiles: true, output: '{profile}.txt' }, onlyPlatforms))).toMatch(
      /^--all-profiles: every profile of .* is a third-party platform's \(agency, other\), .*`wx-followers export --authorized --profile agency`/,
    );
    expect(await usageOf(planExport({ progress: false, profile: 'agency' }, io))).toMatch(
      /^No credentials\. .*Profile agency holds a third-party platform's component token source, and no account of its own: .*`wx-followers export --authorized --profile agency`\.$/,
    );
  });
});
