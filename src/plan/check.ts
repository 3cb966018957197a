import type { IOStreams } from '../console/streams.js';
import { shown, usageError, WxError } from '../errors.js';
import type { AppCredentials } from '../api/endpoints/stable-token.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';
import { refuseClosedStdout } from './stdout.js';
import { openConfigStore } from '../out/config-store.js';
import { chosenProfiles } from './accounts.js';
import { planComponentConnection, type ComponentConnectionPlan } from './component.js';
import { isPlatformProfile, selectedProfile } from './profiles.js';

export interface CheckFlags extends ConnectionFlags {
  format?: string;
  /** --profiles shop,news / --all-profiles: each account checked, as export would run it. */
  profiles?: string;
  allProfiles?: boolean;
}

/** text: a line a fact, for people; json: one object, for scripts. */
type CheckFormat = 'text' | 'json';

/**
 * What `check` found before any call: the connection planned as an export would plan it, or what
 * would stop an export before its first call (no credentials, a broken config: exit 2). The
 * latter is a finding to report in the chosen format, not a failure of the check.
 */
type CheckConnection =
  | { kind: 'planned'; plan: ConnectionPlan; app: AppCredentials | undefined }
  /** A third-party platform's profile: its component token and whitelist are what export --authorized needs first. */
  | { kind: 'platform'; plan: ComponentConnectionPlan }
  | { kind: 'unplanned'; problem: WxError };

export interface CheckPlan {
  format: CheckFormat;
  connection: CheckConnection;
  /** With --profiles or --all-profiles: the account this check is of. */
  profile?: string;
}

/** The checks of a run, and the platforms' profiles --all-profiles left out (said once on stderr). */
export interface ChecksPlan {
  checks: CheckPlan[];
  platformsLeftOut: string[];
  quiet: boolean;
}

/**
 * One check, or one for each account --profiles or --all-profiles selects (as an export over
 * them would): each account's connection planned from its profile alone, before any call.
 */
export async function planChecks(flags: CheckFlags, io: IOStreams): Promise<ChecksPlan> {
  if (flags.profiles === undefined && flags.allProfiles !== true)
    return { checks: [await planCheck(flags, io)], platformsLeftOut: [], quiet: flags.quiet === true };
  if (flags.profiles !== undefined && flags.allProfiles === true) throw usageError('--profiles and --all-profiles do not go together.');
  if (flags.profile !== undefined) {
    throw usageError('--profile selects one account; --profiles and --all-profiles select several: give one of them.');
  }
  for (const [given, flag] of [
    [flags.accessToken, '--access-token'],
    [flags.appid, '--appid'],
    [flags.secret, '--secret'],
  ] as const) {
    if (given !== undefined) throw usageError(`${flag} would serve every account: with --profiles each takes it from its profile.`);
  }
  const { accounts, platformsLeftOut } = chosenProfiles(flags, await openConfigStore(io.env), checkPlatformInstead);
  const checks: CheckPlan[] = [];
  for (const profile of accounts) {
    checks.push({ ...(await planCheck({ ...flags, profile, profiles: undefined, allProfiles: false }, io)), profile });
  }
  return { checks, platformsLeftOut, quiet: flags.quiet === true };
}

async function planCheck(flags: CheckFlags, io: IOStreams): Promise<CheckPlan> {
  refuseClosedStdout(io, 'the report');
  const format = parseCheckFormat(flags.format);
  try {
    if (await selectsPlatform(flags, io)) {
      return { format, connection: { kind: 'platform', plan: await planComponentConnection(flags, io, '`wx-followers check`') } };
    }
    const plan = await planConnection(flags, io);
    // Read now, with a token given too: the fallback an export would turn to is part of what is checked.
    const app = await plan.credentials.app();
    return { format, connection: { kind: 'planned', plan, app } };
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    return { format, connection: { kind: 'unplanned', problem: error } };
  }
}

/** --profile (or WX_PROFILE, default-profile) names a third-party platform's profile: the platform is checked. */
async function selectsPlatform(flags: CheckFlags, io: IOStreams): Promise<boolean> {
  const store = await openConfigStore(io.env);
  const profile = selectedProfile(flags, io.env, store);
  return profile !== undefined && isPlatformProfile(store, profile);
}

/** What a check over profiles points a platform's profile to. */
export function checkPlatformInstead(profile: string): string {
  return `Check it with \`wx-followers check --profile ${profile}\`; \`wx-followers export --authorized --profile ${profile}\` exports the accounts that authorized it.`;
}

function parseCheckFormat(value: string | undefined): CheckFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw usageError(`--format of check must be text or json; got '${shown(value)}'.`);
}
