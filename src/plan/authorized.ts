import type { IOStreams } from '../console/streams.js';
import { usageError, WxError } from '../errors.js';
import type { StoredSettings } from '../out/config-store.js';
import { type AccountPlan, type AccountsFlags, type AccountsPlan, checkFilesApart } from './accounts.js';
import {
  type AuthorizedAccount,
  type AuthorizedSelection,
  type AuthorizedSelectionFlags,
  authorizedConnection,
  planAuthorizedSelection,
} from './authorized-selection.js';
import { type ExportFlags, type ExportPlan, parseExportValues, planExport } from './export.js';
import { type AuthorizedTemplateValues, expandAuthorizedTemplate, namesAuthorizedAccount, namesName } from './authorized-names.js';
import { EXAMPLE_APPID } from './options.js';
import { DEFAULT_TIME_ZONE, dateIn, parseTimeZone, sharedTemplateMessage } from './profiles.js';

/** The export command's flags with --authorized and its token sources. */
export interface AuthorizedFlags extends AccountsFlags, AuthorizedSelectionFlags {}

/** A template of -o or --state (or of the profile's output, state), with where it came from. */
interface Template {
  value: string;
  origin: string;
}

/**
 * What an --authorized run is, checked before any call. The accounts themselves are known only
 * from the platform's list, which the run fetches: it then plans each account's files
 * (planAuthorizedAccounts) before any export call.
 */
export interface AuthorizedPlan {
  /** The platform, the accounts asked for, their tokens, as sync --authorized has them too. */
  selection: AuthorizedSelection;
  /** Whether a template names {name}: then each account's info is fetched (its name, and its scopes). */
  needsName: boolean;
  /** Each account's export flags, -o and --state still templates. */
  exportFlags: ExportFlags;
  output: Template;
  state: Template | undefined;
  /** {date}: the run's day in the profile's time-zone (China Standard Time by default). */
  date: string;
}

/**
 * Every flag, the templates, the platform's token source and each account's token source
 * checked; nothing created, locked or requested.
 */
export async function planAuthorized(flags: AuthorizedFlags, io: IOStreams): Promise<AuthorizedPlan> {
  const selection = await planAuthorizedSelection(flags, io, '`export --authorized`');
  const { store, profile } = selection.platform;
  const settings = store.settings(profile);
  const output = templateOf(flags.output, '--output', settings, 'output');
  const state = templateOf(flags.state, '--state', settings, 'state');
  if (output === undefined) {
    throw usageError(
      "--authorized exports several accounts, which cannot share stdout: give -o with {appid} in it (-o '{appid}-{date}.txt'), or set output in the platform's profile.",
    );
  }
  const zone = settings.get('time-zone');
  const date = dateIn(
    zone === undefined ? DEFAULT_TIME_ZONE : parseTimeZone(zone, `config key time-zone of profile ${profile}`),
    new Date(),
  );
  const sample: AuthorizedTemplateValues = { appid: EXAMPLE_APPID, name: 'name', date };
  for (const template of [output, state]) {
    if (template === undefined) continue;
    expandAuthorizedTemplate(template.value, sample, template.origin);
    if (!namesAuthorizedAccount(template.value)) {
      throw usageError(sharedTemplateMessage(template.origin, template.value, '{appid}', '{appid}'));
    }
  }
  const exportFlags: ExportFlags = { ...flags, output: output.value, state: state?.value, profile: undefined, progress: false };
  parseExportValues(exportFlags);
  return {
    selection,
    needsName: namesName(output.value) || (state !== undefined && namesName(state.value)),
    exportFlags,
    output,
    state,
    date,
  };
}

function templateOf(flag: string | undefined, flagName: string, settings: StoredSettings, key: 'output' | 'state'): Template | undefined {
  if (flag !== undefined) return { value: flag, origin: flagName };
  const stored = settings.get(key);
  if (stored === undefined) return undefined;
  return {
    value: stored,
    origin: settings.profile === undefined ? `config key ${key}` : `config key ${key} of profile ${settings.profile}`,
  };
}

/**
 * Every account's export planned, as for --profiles: its files filled in and checked (and apart
 * from the others'), its --state read. A mistake is exit 2 for the run, before any export call.
 */
export async function planAuthorizedAccounts(
  plan: AuthorizedPlan,
  accounts: readonly AuthorizedAccount[],
  io: IOStreams,
): Promise<AccountsPlan> {
  const files = accounts.map((account) => {
    const values: AuthorizedTemplateValues = { appid: account.appid, name: account.name, date: plan.date };
    const output = expandAuthorizedTemplate(plan.output.value, values, plan.output.origin);
    const state = plan.state === undefined ? undefined : expandAuthorizedTemplate(plan.state.value, values, plan.state.origin);
    return { who: `account ${account.appid}`, output, state };
  });
  checkFilesApart(files, plan.selection.summaryPath, 'Put {appid} in -o and --state: two accounts may have one name.');
  const planned: AccountPlan[] = [];
  for (const [index, account] of accounts.entries()) {
    const { output, state } = files[index] as (typeof files)[number];
    planned.push({
      profile: undefined,
      appid: account.appid,
      ...(account.name === undefined ? {} : { name: account.name }),
      export: await planAccountExport(plan, account, { output, state }, io),
      doneEarlier: false,
    });
  }
  // As with --profiles: a batch goes on while any of its accounts is unfinished.
  const unfinished = planned.some((account) => account.export.state?.read?.done === false);
  for (const account of planned) account.doneEarlier = unfinished && account.export.state?.read?.done === true;
  const { concurrency, summaryPath, progress, quiet } = plan.selection;
  return { accounts: planned, concurrency, summaryPath, progress, quiet };
}

async function planAccountExport(
  plan: AuthorizedPlan,
  account: AuthorizedAccount,
  files: { output: string; state: string | undefined },
  io: IOStreams,
): Promise<ExportPlan> {
  const connection = await authorizedConnection(plan.selection, account, io);
  try {
    return await planExport({ ...plan.exportFlags, ...files }, io, connection.store, connection);
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    throw new WxError(`account ${account.appid}: ${error.message}`, error.exitCode, { cause: error });
  }
}
