import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { everyNth, generatedFollowers } from '../fake-api/followers.js';
import type { FakeAccount, FakeApi } from '../fake-api/server.js';

/** Three accounts, each with followers of its own (every third of one generated list). */
export function threeAccounts(size = 250): FakeAccount[] {
  const all = generatedFollowers(size * 3);
  return ['shop', 'news', 'promo'].map((name, index) => ({
    appid: `wx${String(index + 1).repeat(16)}`,
    secret: `SECRET_OF_${name.toUpperCase()}_0123456789`,
    followers: everyNth(all, 3, index),
  }));
}

/** A config whose profiles are named after the accounts, in order. */
export async function configWith(
  dir: string,
  api: FakeApi,
  accounts: readonly FakeAccount[],
  names = ['shop', 'news', 'promo'],
): Promise<void> {
  const profiles = Object.fromEntries(
    accounts.map((account, index) => [names[index], { appid: account.appid, secret: account.secret, 'base-url': api.url }]),
  );
  await writeFile(join(dir, 'config.json'), JSON.stringify({ profiles }));
}
