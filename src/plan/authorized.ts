import { chooseProxy } from '../api/proxy.js';
import type { TokenProvider } from '../api/token-sources.js';
import type { IOStreams } from '../console/streams.js';
import { escapeText, shown, usageError, WxError } from '../errors.js';
import { configFilePath, openConfigStore, type ConfigKey, type StoredSettings } from '../out/config-store.js';
import { type AccountPlan, type AccountsFlags, type AccountsPlan, checkFilesApart } from './accounts.js';
import { planComponentConnection, type ComponentConnectionPlan, type ComponentFlags } from './component.js';
import type { ConnectionPlan } from './connection.js';
import { resolveSetting, type Credentials, type TokenService } from './credentials.js';
import { type ExportFlags, type ExportPlan, parseExportValues, planExport } from './export.js';
import { type AuthorizedTemplateValues, expandAuthorizedTemplate, namesAuthorizedAccount, namesName } from './authorized-names.js';
import { EXAMPLE_APPID, parseAppid, parsePositiveInteger, parseTokenUrl } from './options.js';
import { DEFAULT_TIME_ZONE, dateIn, parseTimeZone, selectedProfile, sharedTemplateMessage } from './profiles.js';

/** The export command's flags with --authorized and its token sources. */
export interface AuthorizedFlags extends AccountsFlags, ComponentFlags {
  /** `--authorized` alone: every authorized account; `--authorized wx1,wx2`: those. */
  authorized?: string | boolean;
  authorizerTokenCommand?: string;
  authorizerTokenUrl?: string;
}

/**
 * Where each account's authorizer token comes from: the platform's server (a command or a URL
 * with {appid}), or, without one, api_authorizer_token with the refresh token the list gave.
 */
type AuthorizerTokenSource =
  | { kind: 'command'; command: string; from: string }
  | { kind: 'url'; template: string; from: string; authorization: string | undefined }
  | { kind: 'refresh' };

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
  platform: ComponentConnectionPlan;
  /** The AppIDs of --authorized wx1,wx2, in order; undefined: every account the platform lists. */
  appids: string[] | undefined;
  /** Whether a template names {name}: then each account's info is fetched (its name, and its scopes). */
  needsName: boolean;
  tokens: AuthorizerTokenSource;
  /** Each account's export flags, -o and --state still templates. */
  exportFlags: ExportFlags;
  output: Template;
  state: Template | undefined;
  /** {date}: the run's day in the profile's time-zone (China Standard Time by default). */
  date: string;
  concurrency: number;
  summaryPath: string | undefined;
  progress: boolean;
  quiet: boolean;
}

const MAX_ACCOUNTS_CONCURRENCY = 8;

/** What would choose the account or its token: with --authorized the platform's list does. */
const ACCOUNT_FLAGS = [
  ['profiles', '--profiles', undefined],
  ['allProfiles', '--all-profiles', undefined],
  ['accessToken', '--access-token', 'WX_ACCESS_TOKEN'],
  ['appid', '--appid', 'WX_APPID'],
  ['secret', '--secret', 'WX_SECRET'],
  ['tokenCommand', '--token-command', 'WX_TOKEN_COMMAND'],
  ['tokenUrl', '--token-url', 'WX_TOKEN_URL'],
  ['resume', '--resume', undefined],
] as const;

export function selectsAuthorized(flags: AuthorizedFlags): boolean {
  return flags.authorized !== undefined && flags.authorized !== false;
}

/** The flags that go with --authorized alone, refused (exit 2) on any other export: they would be ignored. */
export function refuseWithoutAuthorized<Flags extends AuthorizedFlags>(flags: Flags): Flags {
  const alone = [
    [flags.authorizerTokenCommand, '--authorizer-token-command'],
    [flags.authorizerTokenUrl, '--authorizer-token-url'],
    [flags.componentAppid, '--component-appid'],
    [flags.componentTokenCommand, '--component-token-command'],
    [flags.componentTokenUrl, '--component-token-url'],
  ] as const;
  for (const [value, flag] of alone) {
    if (value !== undefined) throw usageError(`${flag} goes with --authorized (the accounts that authorized a third-party platform).`);
  }
  return flags;
}

/**
 * Every flag, the templates, the platform's token source and each account's token source
 * checked; nothing created, locked or requested.
 */
export async function planAuthorized(flags: AuthorizedFlags, io: IOStreams): Promise<AuthorizedPlan> {
  checkAuthorizedFlags(flags, io.env);
  const appids = parseAuthorizedAppids(flags.authorized);
  const concurrency =
    parsePositiveInteger(
      '--accounts-concurrency',
      flags.accountsConcurrency,
      MAX_ACCOUNTS_CONCURRENCY,
      'each account runs its own calls',
    ) ?? 1;
  const store = await openConfigStore(io.env);
  const profile = selectedProfile(flags, io.env, store);
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
  const platform = await planComponentConnection(flags, io, '`export --authorized`');
  const tokens = await authorizerTokenSource(flags, io, async () => settings);
  return {
    platform,
    appids,
    needsName: namesName(output.value) || (state !== undefined && namesName(state.value)),
    tokens,
    exportFlags,
    output,
    state,
    date,
    concurrency,
    summaryPath: flags.summary,
    progress: flags.progress,
    quiet: flags.quiet === true,
  };
}

function checkAuthorizedFlags(flags: AuthorizedFlags, env: NodeJS.ProcessEnv): void {
  for (const [name, flag, envName] of ACCOUNT_FLAGS) {
    if (flags[name] !== undefined && flags[name] !== false) {
      throw usageError(
        `--authorized and ${flag} do not go together: --authorized exports the accounts that authorized the platform, each with its own token.`,
      );
    }
    if (envName !== undefined && env[envName]?.trim()) {
      throw usageError(
        `${envName} is set, and would serve every account: --authorized takes each account's token from the platform. Unset it for this run.`,
      );
    }
  }
}

/** `true` (the flag alone): every account; else a comma-separated list of AppIDs, each checked. */
function parseAuthorizedAppids(value: string | boolean | undefined): string[] | undefined {
  if (value === true || value === undefined || value === false) return undefined;
  const given = value
    .split(',')
    .map((each) => each.trim())
    .filter((each) => each !== '');
  if (given.length === 0) {
    throw usageError(
      '--authorized takes AppIDs, comma-separated (--authorized wx1234567890abcdef,wxfedcba0987654321), or none for every account.',
    );
  }
  return [...new Set(given.map((appid) => parseAppid(appid, '--authorized')))];
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

const TOKEN_SOURCES = [
  {
    kind: 'command',
    option: 'authorizerTokenCommand',
    flag: '--authorizer-token-command',
    env: 'WX_AUTHORIZER_TOKEN_COMMAND',
    key: 'authorizer-token-command',
  },
  {
    kind: 'url',
    option: 'authorizerTokenUrl',
    flag: '--authorizer-token-url',
    env: 'WX_AUTHORIZER_TOKEN_URL',
    key: 'authorizer-token-url',
  },
] as const satisfies readonly { kind: string; option: keyof AuthorizedFlags; flag: string; env: string; key: ConfigKey }[];

/**
 * Each account's token source: the first level (flags, env, config) that gives a command or a
 * URL; both at one level is exit 2. Without either, api_authorizer_token with refresh tokens.
 */
async function authorizerTokenSource(
  flags: AuthorizedFlags,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
): Promise<AuthorizerTokenSource> {
  const settings = await store();
  const levels = [
    { where: 'on the command line', given: (source: (typeof TOKEN_SOURCES)[number]) => flags[source.option]?.trim(), name: 'flag' },
    { where: 'in the environment', given: (source: (typeof TOKEN_SOURCES)[number]) => io.env[source.env]?.trim(), name: 'env' },
    {
      where: `in the config file ${configFilePath(io.env)}`,
      given: (source: (typeof TOKEN_SOURCES)[number]) => settings.get(source.key),
      name: 'key',
    },
  ] as const;
  for (const level of levels) {
    const given = TOKEN_SOURCES.filter((source) => {
      const value = level.given(source);
      return value !== undefined && value !== '';
    });
    if (given.length > 1) {
      throw usageError(
        `${given.map((source) => source[level.name]).join(' and ')} were given together ${escapeText(level.where)}: give one source of the accounts' tokens.`,
      );
    }
    const source = given[0];
    if (source === undefined) continue;
    const setting = await resolveSetting(flags[source.option], source.env, source.key, io, store);
    if (setting === undefined) throw new Error('an authorizer token source was chosen without a value');
    if (source.kind === 'command') return { kind: 'command', command: setting.value, from: setting.origin };
    // Checked now with an AppID of the right shape: each account's is filled in by the run.
    parseTokenUrl(fillAppid(setting.value, EXAMPLE_APPID), setting.origin, undefined);
    const authorization = io.env['WX_AUTHORIZER_TOKEN_URL_AUTH']?.trim();
    return { kind: 'url', template: setting.value, from: setting.origin, authorization: authorization || undefined };
  }
  return { kind: 'refresh' };
}

/** {appid} in a token URL, URL-encoded (an AppID needs no encoding; what the platform lists is checked all the same). */
function fillAppid(template: string, appid: string): string {
  return template.split('{appid}').join(encodeURIComponent(appid));
}

/**
 * {appid} in a token command, as a reference to WX_APPID that the shell expands: the AppID, which
 * comes from the platform's answer, never passes through the shell's parsing.
 */
export function commandForAppid(command: string, platform: NodeJS.Platform = process.platform): string {
  return command.split('{appid}').join(platform === 'win32' ? '%WX_APPID%' : '"$WX_APPID"');
}

/** One account of the platform's list, as the run knows it when it plans the account's files. */
export interface AuthorizedAccount {
  appid: string;
  name: string | undefined;
  /** With api_authorizer_token: the provider of its tokens, which holds its refresh token (the run's, never the plan's). */
  tokens: ((signal: AbortSignal | undefined) => TokenProvider) | undefined;
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
  checkFilesApart(files, plan.summaryPath, 'Put {appid} in -o and --state: two accounts may have one name.');
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
  return { accounts: planned, concurrency: plan.concurrency, summaryPath: plan.summaryPath, progress: plan.progress, quiet: plan.quiet };
}

async function planAccountExport(
  plan: AuthorizedPlan,
  account: AuthorizedAccount,
  files: { output: string; state: string | undefined },
  io: IOStreams,
): Promise<ExportPlan> {
  const { component: _component, ...transport } = plan.platform;
  const connection: ConnectionPlan = { ...transport, credentials: await credentialsOf(plan, account, io) };
  try {
    return await planExport({ ...plan.exportFlags, ...files }, io, transport.store, connection);
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    throw new WxError(`account ${account.appid}: ${error.message}`, error.exitCode, { cause: error });
  }
}

async function credentialsOf(plan: AuthorizedPlan, account: AuthorizedAccount, io: IOStreams): Promise<Credentials> {
  return {
    service: await serviceOf(plan, account, io),
    token: undefined,
    app: async () => undefined,
    account: async () => ({ appid: account.appid }),
    throughPlatform: true,
  };
}

async function serviceOf(plan: AuthorizedPlan, account: AuthorizedAccount, io: IOStreams): Promise<TokenService> {
  const { tokens } = plan;
  if (tokens.kind === 'command') {
    return { kind: 'command', command: commandForAppid(tokens.command), from: tokens.from, appid: account.appid, env: io.env };
  }
  if (tokens.kind === 'url') {
    const url = parseTokenUrl(fillAppid(tokens.template, account.appid), tokens.from, undefined);
    const { profile, store } = plan.platform;
    const proxy = await chooseProxy(plan.exportFlags.proxy, async () => store.settings(profile).get('proxy'), io.env, url);
    return {
      kind: 'url',
      url,
      from: tokens.from,
      authorization: tokens.authorization,
      proxy,
      names: { setting: '--authorizer-token-url', authorizationEnv: 'WX_AUTHORIZER_TOKEN_URL_AUTH' },
    };
  }
  if (account.tokens === undefined) throw new Error(`no token provider for ${shown(account.appid)}`);
  return { kind: 'provided', provider: account.tokens, from: 'api_authorizer_token' };
}
