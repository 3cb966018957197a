import type { IOStreams } from '../console/streams.js';
import { shown, usageError, WxError } from '../errors.js';
import type { DetailsLanguage } from '../openid.js';
import { openConfigStore, type ConfigStore } from '../out/config-store.js';
import { checkAccountSelection, chosenProfiles, parseAccountsConcurrency, syncAuthorizedInstead } from './accounts.js';
import type { AuthorizedSelectionFlags } from './authorized-selection.js';
import { planConnection, type ConnectionPlan } from './connection.js';
import { refuseWritesOverDatabase } from './database-outputs.js';
import { chooseDatabase, planDatabase, type DatabasePlan } from './database-target.js';
import { parseDetailsConcurrency } from './export.js';
import { parseLanguage, parsePositiveInteger } from './options.js';
import { selectedProfile } from './profiles.js';

/** The sync command's flags, as commander hands them over. */
export interface SyncFlags extends AuthorizedSelectionFlags {
  db?: string;
  restart?: boolean;
  limit?: string;
  maxCalls?: string;
  withInfo?: boolean;
  detailsMaxAge?: string;
  lang?: string;
  concurrency?: string;
}

/** With --with-info: which details are fetched, and how. */
export interface SyncDetailsPlan {
  lang: DetailsLanguage;
  /** batchget calls in flight at once. */
  concurrency: number;
  /** Details fetched longer ago than this are fetched again. */
  maxAgeSeconds: number;
}

/** How each account is synced, whoever it is: what the flags say of the walk and the details. */
export interface SyncSettings {
  /** Start a new walk from the first page, leaving the unfinished one. */
  restart: boolean;
  limit: number | undefined;
  maxCalls: number | undefined;
  details: SyncDetailsPlan | undefined;
  progress: boolean;
  quiet: boolean;
}

/** One checked sync of one account: the run works from this alone. */
export interface SyncPlan extends SyncSettings {
  /** The account's AppID: the database keys its rows by it. */
  appid: string;
  database: DatabasePlan;
  connection: ConnectionPlan;
}

/** A sync of several accounts (--profiles, --all-profiles, --authorized), each planned as a sync of it alone would be. */
export interface SyncAccountsPlan {
  /** An account of --authorized has no profile. */
  accounts: { profile: string | undefined; sync: SyncPlan }[];
  concurrency: number;
  summaryPath: string | undefined;
  progress: boolean;
  quiet: boolean;
  /** --all-profiles: the third-party platforms' profiles it left out (sync takes accounts with credentials of their own). */
  platformsLeftOut: string[];
}

const DEFAULT_DETAILS_MAX_AGE = '30d';
/** Hours, days, weeks: `m` was minutes where a month was meant, and an age under an hour refetches every run. */
const UNIT_SECONDS: Readonly<Record<string, number>> = { h: 3600, d: 86_400, w: 604_800 };
const MIN_DETAILS_MAX_AGE_SECONDS = 3600;
/** What a unit the tool does not take was most likely meant to be. */
const UNIT_HINTS: Readonly<Record<string, string>> = { m: ' (a month is 30d)', mo: ' (a month is 30d)', y: ' (a year is 365d)' };

/**
 * The flags, the environment and the config, checked whole before anything is created, locked or
 * requested: the database's file and folder and its schema included.
 */
export async function planSync(flags: SyncFlags, io: IOStreams, storeRead?: ConfigStore): Promise<SyncPlan> {
  const store = storeRead ?? (await openConfigStore(io.env));
  const settings = parseSyncSettings(flags);
  const connection = await planConnection(flags, io, store);
  const account = await connection.credentials.account();
  if (!('appid' in account)) {
    throw usageError(
      `sync keeps each account's followers under its AppID, and this run knows none (the token comes from ${account.tokenFrom}): give --appid (or WX_APPID, or \`wx-followers config set appid wx...\`) with the token.`,
    );
  }
  const profileSettings = store.settings(selectedProfile(flags, io.env, store));
  const database = await planDatabase(chooseDatabase(flags.db, io.env, profileSettings), {
    appids: [account.appid],
    writing: true,
    env: io.env,
  });
  return { ...settings, appid: account.appid, database, connection };
}

/** The walk's and the details' flags, checked: the same for every account of a run. */
export function parseSyncSettings(flags: SyncFlags): SyncSettings {
  return {
    restart: flags.restart === true,
    limit: parsePositiveInteger('--limit', flags.limit),
    maxCalls: parsePositiveInteger('--max-calls', flags.maxCalls),
    details: parseSyncDetails(flags),
    progress: flags.progress,
    quiet: flags.quiet === true,
  };
}

/** Undefined without --with-info, whose options are then refused rather than ignored. */
function parseSyncDetails(flags: SyncFlags): SyncDetailsPlan | undefined {
  if (flags.withInfo !== true) {
    for (const [value, flag] of [
      [flags.detailsMaxAge, '--details-max-age'],
      [flags.lang, '--lang'],
      [flags.concurrency, '--concurrency'],
    ] as const) {
      if (value !== undefined) throw usageError(`${flag} goes with --with-info.`);
    }
    return undefined;
  }
  const concurrency = parseDetailsConcurrency(flags.concurrency);
  return {
    lang: flags.lang === undefined ? 'zh_CN' : parseLanguage(flags.lang),
    concurrency,
    maxAgeSeconds: parseAge('--details-max-age', flags.detailsMaxAge ?? DEFAULT_DETAILS_MAX_AGE),
  };
}

/** 30d, 12h, 2w, in seconds: at least an hour. */
function parseAge(flag: string, value: string): number {
  const match = /^(\d{1,9})([a-z]*)$/i.exec(value.trim());
  const unit = match?.[2]?.toLowerCase() ?? '';
  const perUnit = match !== null && unit === '' && Number(match[1]) === 0 ? 0 : UNIT_SECONDS[unit];
  if (match === null || perUnit === undefined) {
    throw usageError(
      `${flag} '${shown(value)}' is not an age in hours, days or weeks${UNIT_HINTS[unit] ?? ''}: give a number and h, d or w, such as 30d, 12h or 2w.`,
    );
  }
  const seconds = Number(match[1]) * perUnit;
  if (seconds < MIN_DETAILS_MAX_AGE_SECONDS) {
    throw usageError(
      `${flag} '${shown(value)}' is under an hour: every sync would fetch all the details again and spend the batchget quota. Give 1h or more, such as 30d.`,
    );
  }
  return seconds;
}

/**
 * Every account of --profiles or --all-profiles planned, and checked against each other, before
 * anything is created, locked or requested. One database may hold them all (--db, WX_DB), or each
 * profile its own (its `db` setting).
 */
export async function planSyncAccounts(flags: SyncFlags, io: IOStreams): Promise<SyncAccountsPlan> {
  checkAccountSelection(flags, io.env);
  const concurrency = parseAccountsConcurrency(flags.accountsConcurrency);
  const store = await openConfigStore(io.env);
  const accounts: SyncAccountsPlan['accounts'] = [];
  const synced = new Map<string, string>();
  const { accounts: profiles, platformsLeftOut } = chosenProfiles(flags, store, syncAuthorizedInstead);
  for (const profile of profiles) {
    const sync = await planForAccount(profile, { ...flags, profile, progress: false }, io, store);
    // Two profiles of one AppID into one database would sync the same rows twice, the second refused by the lock.
    const key = `${sync.appid} ${sync.database.target}`;
    const other = synced.get(key);
    if (other !== undefined) {
      throw usageError(
        `Profiles ${other} and ${profile} are both AppID ${sync.appid} into ${sync.database.shown}: one sync an account. Leave one of them out of --profiles.`,
      );
    }
    synced.set(key, profile);
    accounts.push({ profile, sync });
    if (flags.summary !== undefined) {
      await refuseWritesOverDatabase(sync.database, [{ flag: '--summary', given: flags.summary, path: flags.summary }]);
    }
  }
  return { accounts, concurrency, summaryPath: flags.summary, progress: flags.progress, quiet: flags.quiet === true, platformsLeftOut };
}

/** A plan failure names its account: the whole run stops on it, before any call. */
async function planForAccount(profile: string, flags: SyncFlags, io: IOStreams, store: ConfigStore): Promise<SyncPlan> {
  try {
    return await planSync(flags, io, store);
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    throw new WxError(`profile ${shown(profile)}: ${error.message}`, error.exitCode, { cause: error });
  }
}
