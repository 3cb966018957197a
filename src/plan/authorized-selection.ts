/**
 * What `export --authorized` and `sync --authorized` share before their first call: the platform's
 * connection, which accounts (all, or the AppIDs given), each account's token source, and how many
 * run at once. What they do with each account is theirs.
 */
import { chooseProxy, type ProxyFlag } from '../api/proxy.js';
import type { TokenProvider } from '../api/token-sources.js';
import type { IOStreams } from '../console/streams.js';
import { escapeText, shown, usageError } from '../errors.js';
import { configFilePath, type ConfigKey, type StoredSettings } from '../out/config-store.js';
import { parseAccountsConcurrency } from './accounts.js';
import { planComponentConnection, type ComponentConnectionPlan, type ComponentFlags } from './component.js';
import type { ConnectionFlags, ConnectionPlan } from './connection.js';
import { resolveSetting, type Credentials, type TokenService } from './credentials.js';
import { EXAMPLE_APPID, parseAppid, parseTokenUrl } from './options.js';

/** The flags that choose a platform's accounts and their tokens, on export and sync alike. */
export interface AuthorizedSelectionFlags extends ConnectionFlags, ComponentFlags {
  /** `--authorized` alone: every authorized account; `--authorized wx1,wx2`: those. */
  authorized?: string | boolean;
  authorizerTokenCommand?: string;
  authorizerTokenUrl?: string;
  profiles?: string;
  allProfiles?: boolean;
  accountsConcurrency?: string;
  summary?: string;
  /** export's alone: refused with --authorized. */
  resume?: string;
  progress: boolean;
}

/**
 * Where each account's authorizer token comes from: the platform's server (a command or a URL
 * with {appid}), or, without one, api_authorizer_token with the refresh token the list gave.
 */
type AuthorizerTokenSource =
  | { kind: 'command'; command: string; from: string }
  | { kind: 'url'; template: string; from: string; authorization: string | undefined }
  | { kind: 'refresh' };

/** The accounts of an --authorized run and their tokens, checked before any call; the list itself is the run's first call. */
export interface AuthorizedSelection {
  platform: ComponentConnectionPlan;
  /** The AppIDs of --authorized wx1,wx2, in order; undefined: every account the platform lists. */
  appids: string[] | undefined;
  tokens: AuthorizerTokenSource;
  /** --proxy as given: a token URL of the platform's server is reached as the API is. */
  proxyFlag: ProxyFlag;
  /** Accounts run at once. */
  concurrency: number;
  summaryPath: string | undefined;
  progress: boolean;
  quiet: boolean;
}

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

export function selectsAuthorized(flags: { authorized?: string | boolean }): boolean {
  return flags.authorized !== undefined && flags.authorized !== false;
}

/** The flags that go with --authorized alone, refused (exit 2) on any other export or sync: they would be ignored. */
export function refuseWithoutAuthorized<Flags extends AuthorizedSelectionFlags>(flags: Flags): Flags {
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
 * The platform's connection, the accounts asked for and each one's token source, checked;
 * nothing created, locked or requested. `command` names the run in messages ('`sync --authorized`').
 */
export async function planAuthorizedSelection(
  flags: AuthorizedSelectionFlags,
  io: IOStreams,
  command: string,
): Promise<AuthorizedSelection> {
  checkAuthorizedFlags(flags, io.env);
  const appids = parseAuthorizedAppids(flags.authorized);
  const concurrency = parseAccountsConcurrency(flags.accountsConcurrency);
  const platform = await planComponentConnection(flags, io, command);
  const tokens = await authorizerTokenSource(flags, io, async () => platform.store.settings(platform.profile));
  return {
    platform,
    appids,
    tokens,
    proxyFlag: flags.proxy,
    concurrency,
    summaryPath: flags.summary,
    progress: flags.progress,
    quiet: flags.quiet === true,
  };
}

function checkAuthorizedFlags(flags: AuthorizedSelectionFlags, env: NodeJS.ProcessEnv): void {
  for (const [name, flag, envName] of ACCOUNT_FLAGS) {
    if (flags[name] !== undefined && flags[name] !== false) {
      throw usageError(
        `--authorized and ${flag} do not go together: --authorized takes the accounts that authorized the platform, each with its own token.`,
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
] as const satisfies readonly { kind: string; option: keyof AuthorizedSelectionFlags; flag: string; env: string; key: ConfigKey }[];

/**
 * Each account's token source: the first level (flags, env, config) that gives a command or a
 * URL; both at one level is exit 2. Without either, api_authorizer_token with refresh tokens.
 */
async function authorizerTokenSource(
  flags: AuthorizedSelectionFlags,
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

/** One account of the platform's list, as the run knows it when it plans the account's run. */
export interface AuthorizedAccount {
  appid: string;
  name: string | undefined;
  /** With api_authorizer_token: the provider of its tokens, which holds its refresh token (the run's, never the plan's). */
  tokens: ((signal: AbortSignal | undefined) => TokenProvider) | undefined;
}

/** An account's connection: the platform's transport, with the account's own token source. */
export async function authorizedConnection(
  selection: AuthorizedSelection,
  account: AuthorizedAccount,
  io: IOStreams,
): Promise<ConnectionPlan> {
  const { component: _component, ...transport } = selection.platform;
  const credentials: Credentials = {
    service: await serviceOf(selection, account, io),
    token: undefined,
    app: async () => undefined,
    account: async () => ({ appid: account.appid }),
    throughPlatform: true,
  };
  return { ...transport, credentials };
}

async function serviceOf(selection: AuthorizedSelection, account: AuthorizedAccount, io: IOStreams): Promise<TokenService> {
  const { tokens } = selection;
  if (tokens.kind === 'command') {
    return { kind: 'command', command: commandForAppid(tokens.command), from: tokens.from, appid: account.appid, env: io.env };
  }
  if (tokens.kind === 'url') {
    const url = parseTokenUrl(fillAppid(tokens.template, account.appid), tokens.from, undefined);
    const { profile, store } = selection.platform;
    const proxy = await chooseProxy(selection.proxyFlag, async () => store.settings(profile).get('proxy'), io.env, url);
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
