import { resolve } from 'node:path';
import type { IOStreams } from '../console/streams.js';
import { escapeText, shown, usageError, WxError } from '../errors.js';
import { openConfigStore, parseProfileName, type ConfigStore } from '../out/config-store.js';
import { parsePositiveInteger } from './options.js';
import { planExport, profilePaths, type ExportFlags, type ExportPlan } from './export.js';
import { existingProfile, isPlatformProfile, namesAnAccount, sharedTemplateMessage } from './profiles.js';

/** The export command's flags with those that choose several accounts. */
export interface AccountsFlags extends ExportFlags {
  /** --profiles shop,news */
  profiles?: string;
  allProfiles?: boolean;
  accountsConcurrency?: string;
  /** --summary FILE: the summary as NDJSON too. */
  summary?: string;
}

/** One account of a run over several: its profile, and its export planned as a run for it alone would be. */
export interface AccountPlan {
  /** Undefined for an account that authorized a platform (--authorized): it has no profile. */
  profile: string | undefined;
  appid: string | undefined;
  /** The account's name, when it was fetched (--authorized with {name}): outside text. */
  name?: string;
  export: ExportPlan;
  /**
   * Its --state says its export is done while another account's is not: this run goes on with the
   * unfinished ones only (a cron rerun after a failure), and this one is left as it is.
   */
  doneEarlier: boolean;
}

export interface AccountsPlan {
  accounts: AccountPlan[];
  /** Accounts exported at once. */
  concurrency: number;
  summaryPath: string | undefined;
  progress: boolean;
  quiet: boolean;
  /** The third-party platforms' profiles --all-profiles left out: the run says so once. */
  platformsLeftOut?: string[];
}

const MAX_ACCOUNTS_CONCURRENCY = 8;

/** The settings --profiles takes from each profile: given on the command line or in the environment, they would serve every account. */
const PER_ACCOUNT_FLAGS = [
  ['accessToken', '--access-token', 'WX_ACCESS_TOKEN'],
  ['appid', '--appid', 'WX_APPID'],
  ['secret', '--secret', 'WX_SECRET'],
] as const;

/** The flags that choose several accounts, and those a run over several refuses. */
interface AccountSelectionFlags {
  profiles?: string;
  allProfiles?: boolean;
  profile?: string;
  summary?: string;
  accessToken?: string;
  appid?: string;
  secret?: string;
}

export function selectsAccounts(flags: AccountSelectionFlags): boolean {
  return flags.profiles !== undefined || flags.allProfiles === true;
}

/**
 * Every account planned, and their files compared, before anything is created, locked or
 * requested: a mistake in any of them (a usage error) stops the whole run before its first call.
 */
export async function planAccounts(flags: AccountsFlags, io: IOStreams): Promise<AccountsPlan> {
  checkAccountFlags(flags, io.env);
  const concurrency = parseAccountsConcurrency(flags.accountsConcurrency);
  const store = await openConfigStore(io.env);
  const { accounts: profiles, platformsLeftOut } = chosenProfiles(flags, store, exportAuthorizedInstead);
  const several = profiles.length > 1;
  const now = new Date();
  const paths = profiles.map((profile) => ({ profile, ...profilePaths(flags, io.env, store, profile, now) }));
  if (several) checkTemplates(flags, paths);
  checkNoSharedFiles(paths, flags.summary);
  const accounts: AccountPlan[] = [];
  for (const { profile, output, state } of paths) {
    const exportPlan = await planForAccount(profile, { ...flags, profile, output, state, progress: false }, io, store);
    accounts.push({ profile, appid: store.get('appid', profile), export: exportPlan, doneEarlier: false });
  }
  // A batch goes on while any of its accounts is unfinished; once all are done, the next run starts them all again.
  const unfinished = accounts.some((account) => account.export.state?.read?.done === false);
  for (const account of accounts) account.doneEarlier = unfinished && account.export.state?.read?.done === true;
  return { accounts, concurrency, summaryPath: flags.summary, progress: flags.progress, quiet: flags.quiet === true, platformsLeftOut };
}

/** --accounts-concurrency: accounts run at once (1 unless given), within its bound. */
export function parseAccountsConcurrency(value: string | undefined): number {
  return parsePositiveInteger('--accounts-concurrency', value, MAX_ACCOUNTS_CONCURRENCY, 'each account runs its own calls') ?? 1;
}

function checkAccountFlags(flags: AccountsFlags, env: NodeJS.ProcessEnv): void {
  checkAccountSelection(flags, env);
  if (flags.resume !== undefined)
    throw usageError("--resume names one account's cursor: with several accounts, use --state to go on where each stopped.");
}

/** What selects several accounts (export's and sync's): one way to choose them, and nothing given that would serve them all. */
export function checkAccountSelection(flags: AccountSelectionFlags, env: NodeJS.ProcessEnv): void {
  if (!selectsAccounts(flags)) {
    const flag = flags.summary === undefined ? '--accounts-concurrency' : '--summary';
    throw usageError(`${flag} goes with --profiles or --all-profiles.`);
  }
  if (flags.profiles !== undefined && flags.allProfiles === true) throw usageError('--profiles and --all-profiles do not go together.');
  if (flags.profile !== undefined)
    throw usageError('--profile selects one account; --profiles and --all-profiles select several: give one of them.');
  for (const [name, flag, envName] of PER_ACCOUNT_FLAGS) {
    if (flags[name] !== undefined) throw usageError(`${flag} would serve every account: with --profiles each takes it from its profile.`);
    if (env[envName]?.trim()) {
      throw usageError(
        `${envName} is set, and would serve every account: with --profiles each takes it from its profile. Unset it for this run.`,
      );
    }
  }
}

/** The profiles --profiles or --all-profiles selects: export and check take the same selection. */
export interface ProfileSelection {
  /** The accounts' profiles, in order. */
  accounts: string[];
  /** The third-party platforms' profiles --all-profiles left out (they have no followers of their own). */
  platformsLeftOut: string[];
}

/**
 * The accounts --profiles or --all-profiles names, each an existing profile. A platform's profile
 * (isPlatformProfile) is no account: --all-profiles leaves it out (the run says so), and naming
 * it in --profiles is exit 2 with `instead` (what to run for it: `export --authorized --profile NAME`).
 */
export function chosenProfiles(
  flags: { profiles?: string; allProfiles?: boolean },
  store: ConfigStore,
  instead: (profile: string) => string,
): ProfileSelection {
  if (flags.allProfiles === true) {
    const names = store.profileNames();
    if (names.length === 0) {
      throw usageError(
        `--all-profiles: ${escapeText(store.path)} has no profiles. Make one with \`wx-followers config --profile NAME set appid wx...\`.`,
      );
    }
    const accounts = names.filter((name) => !isPlatformProfile(store, name));
    const platformsLeftOut = names.filter((name) => isPlatformProfile(store, name));
    const [platform] = platformsLeftOut;
    if (accounts.length === 0 && platform !== undefined) {
      throw usageError(
        `--all-profiles: every profile of ${escapeText(store.path)} is a third-party platform's (${platformsLeftOut.map((name) => shown(name)).join(', ')}), with no account of its own. ${instead(platform)}`,
      );
    }
    return { accounts, platformsLeftOut };
  }
  const given = (flags.profiles ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (given.length === 0) throw usageError('--profiles needs profile names, comma-separated (--profiles shop,news).');
  const names = [...new Set(given.map((name) => existingProfile(store, parseProfileName(name, '--profiles'), '--profiles')))];
  const platform = names.find((name) => isPlatformProfile(store, name));
  if (platform !== undefined) {
    throw usageError(
      `--profiles: profile ${shown(platform)} is a third-party platform's (component keys, no account credentials), with no followers of its own. ${instead(platform)}`,
    );
  }
  return { accounts: names, platformsLeftOut: [] };
}

/** The one line a run over --all-profiles says of the platforms' profiles it left out. */
export function platformsLeftOutNotice(platforms: readonly string[], instead: (profile: string) => string): string {
  const names = platforms.map((name) => shown(name)).join(', ');
  const which = platforms.length === 1 ? `${names}, a third-party platform's profile` : `the third-party platforms' profiles ${names}`;
  const [first] = platforms;
  return `wx-followers: --all-profiles leaves out ${which} (component keys, no account of its own). ${instead(platforms.length === 1 && first !== undefined ? first : 'NAME')}`;
}

/** What an export over profiles points a platform's profile to. */
export function exportAuthorizedInstead(profile: string): string {
  return `Export the accounts that authorized it with \`wx-followers export --authorized --profile ${shown(profile)}\` (\`wx-followers accounts --profile ${shown(profile)}\` lists them).`;
}

/** What a sync over profiles points a platform's profile to. */
export function syncAuthorizedInstead(profile: string): string {
  return `Sync the accounts that authorized it with \`wx-followers sync --authorized --profile ${shown(profile)}\` (\`wx-followers accounts --profile ${shown(profile)}\` lists them).`;
}

interface AccountPaths {
  profile: string;
  output: string | undefined;
  state: string | undefined;
}

/** With several accounts: no stdout, and a template on the command line says whose file each is. */
function checkTemplates(flags: AccountsFlags, paths: readonly AccountPaths[]): void {
  for (const [template, flag] of [
    [flags.output, '--output'],
    [flags.state, '--state'],
  ] as const) {
    if (template !== undefined && !namesAnAccount(template)) {
      throw usageError(sharedTemplateMessage(flag, template, '{profile} or {appid}', '{profile}'));
    }
  }
  const toStdout = paths.find((each) => each.output === undefined);
  if (toStdout !== undefined) {
    throw usageError(
      `Profile ${toStdout.profile} would export to stdout, which several accounts cannot share: give -o with {profile} in it, or \`wx-followers config --profile ${toStdout.profile} set output FILE\`.`,
    );
  }
}

/** No two accounts write, or keep state in, one file (a template, or two profiles of one AppID under {appid}). */
function checkNoSharedFiles(paths: readonly AccountPaths[], summary: string | undefined): void {
  checkFilesApart(
    paths.map(({ profile, output, state }) => ({ who: `profile ${profile}`, output, state })),
    summary,
    'Put {profile} in -o and --state (two profiles of one AppID share {appid}).',
  );
}

/** Each account's files, named for messages (`profile shop`, `account wx...`). */
export interface AccountFiles {
  who: string;
  output: string | undefined;
  state: string | undefined;
}

/** No two accounts write, or keep state in, one file, nor the summary's; `advice` says what to put in the templates. */
export function checkFilesApart(files: readonly AccountFiles[], summary: string | undefined, advice: string): void {
  const owners = new Map<string, string>();
  const claim = (path: string | undefined, owner: string): void => {
    if (path === undefined) return;
    const key = resolve(path);
    const other = owners.get(key);
    if (other !== undefined) {
      throw usageError(`${other} and ${owner} would both use ${escapeText(key)}: each account needs files of its own. ${advice}`);
    }
    owners.set(key, owner);
  };
  for (const { who, output, state } of files) {
    claim(output, `${who}'s output`);
    if (output !== undefined) claim(`${output}.partial`, `${who}'s output (its .partial)`);
    claim(state, `${who}'s state file`);
  }
  claim(summary, '--summary');
}

/** A plan failure names its account: the whole run stops on it, before any call. */
async function planForAccount(profile: string, flags: ExportFlags, io: IOStreams, store: ConfigStore): Promise<ExportPlan> {
  try {
    return await planExport(flags, io, store);
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    throw new WxError(`profile ${shown(profile)}: ${error.message}`, error.exitCode, { cause: error });
  }
}
