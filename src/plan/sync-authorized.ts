import type { IOStreams } from '../console/streams.js';
import { shown, WxError } from '../errors.js';
import { type AuthorizedAccount, type AuthorizedSelection, authorizedConnection, planAuthorizedSelection } from './authorized-selection.js';
import { refuseWritesOverDatabase } from './database-outputs.js';
import { chooseDatabase, planDatabase, type DatabasePlan } from './database-target.js';
import { parseSyncSettings, type SyncAccountsPlan, type SyncFlags, type SyncSettings } from './sync.js';

/**
 * What `sync --authorized` is, checked before any call. The accounts are known only from the
 * platform's list, which the run fetches: it then plans each account's sync
 * (planSyncAuthorizedAccounts) before any sync call.
 */
export interface SyncAuthorizedPlan {
  /** The platform, the accounts asked for, their tokens, as export --authorized has them. */
  selection: AuthorizedSelection;
  /** How each account is synced. */
  settings: SyncSettings;
  /** The one database every account goes into (--db, WX_DB, the platform profile's db, the default), checked as far as the plan knows the accounts. */
  database: DatabasePlan;
}

/** The flags, the platform, each account's token source and the database, checked; nothing created, locked or requested. */
export async function planSyncAuthorized(flags: SyncFlags, io: IOStreams): Promise<SyncAuthorizedPlan> {
  const settings = { ...parseSyncSettings(flags), progress: false };
  const selection = await planAuthorizedSelection(flags, io, '`sync --authorized`');
  const { store, profile } = selection.platform;
  const chosen = chooseDatabase(flags.db, io.env, store.settings(profile));
  // The AppIDs of --authorized wx1,wx2 are known now: their locks beside the database are checked too.
  const database = await planDatabase(chosen, { appids: selection.appids ?? [], writing: true, env: io.env });
  const summary = selection.summaryPath;
  if (summary !== undefined) await refuseWritesOverDatabase(database, [{ flag: '--summary', given: summary, path: summary }]);
  return { selection, settings, database };
}

/**
 * Every account's sync planned, before any sync call: its connection with its own token source,
 * and the database checked again with each account's lock beside it (the list named them). A
 * mistake is exit 2 for the run.
 */
export async function planSyncAuthorizedAccounts(
  plan: SyncAuthorizedPlan,
  accounts: readonly AuthorizedAccount[],
  io: IOStreams,
): Promise<SyncAccountsPlan> {
  const chosen = { target: plan.database.target, origin: plan.database.origin };
  const database = await planDatabase(chosen, { appids: accounts.map((account) => account.appid), writing: true, env: io.env });
  const planned: SyncAccountsPlan['accounts'] = [];
  for (const account of accounts) {
    try {
      const connection = await authorizedConnection(plan.selection, account, io);
      planned.push({ profile: undefined, sync: { ...plan.settings, appid: account.appid, database, connection } });
    } catch (error) {
      if (!(error instanceof WxError)) throw error;
      throw new WxError(`account ${shown(account.appid)}: ${error.message}`, error.exitCode, { cause: error });
    }
  }
  const { concurrency, summaryPath, progress, quiet } = plan.selection;
  return { accounts: planned, concurrency, summaryPath, progress, quiet, platformsLeftOut: [] };
}
