import { configFilePath, type ConfigKey, type StoredSettings } from '../out/config-store.js';
import type { AppCredentials } from '../api/endpoints/stable-token.js';
import { HOW_TO_GIVE_APP_CREDENTIALS, escapeText, usageError } from '../errors.js';
import type { AccountId } from '../openid.js';
import { readStdinValue, type IOStreams } from '../console/streams.js';
import type { ProxyChoice } from '../api/proxy.js';
import type { TokenProvider } from '../api/token-sources.js';
import { parseAppid, parseTokenUrl } from './options.js';

export interface Setting {
  value: string;
  /** Where it came from, for messages: '--appid', 'WX_APPID', 'config key appid'. */
  origin: string;
}

/**
 * A value given by flag ('-' reads stdin), else env, else the config store (the selected
 * profile's settings, or the top level's when none is). Each is trimmed:
 * a value read from a file keeps its line break, a pasted one a space, and no credential or
 * setting has either at its ends. Blank counts as not given.
 */
export async function resolveSetting(
  flagValue: string | undefined,
  envName: string,
  key: ConfigKey,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
): Promise<Setting | undefined> {
  const fromFlag = flagValue?.trim();
  if (fromFlag === '-') {
    return { value: await readStdinValue(io, `--${key} -`, key), origin: 'stdin' };
  }
  if (fromFlag !== undefined && fromFlag !== '') return { value: fromFlag, origin: `--${key}` };
  const fromEnv = io.env[envName]?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: envName };
  const settings = await store();
  const fromStore = settings.get(key);
  if (fromStore !== undefined) {
    const origin = settings.profile === undefined ? `config key ${key}` : `config key ${key} of profile ${settings.profile}`;
    return { value: fromStore, origin };
  }
  return undefined;
}

export interface CredentialOptions {
  accessToken?: string;
  appid?: string;
  secret?: string;
  tokenCommand?: string;
  tokenUrl?: string;
}

/**
 * A token that another program owns (a central token server): a command that prints it, or a
 * service that answers it. The tool then never mints a token, caches none, and needs no AppSecret.
 */
export type TokenService =
  | {
      kind: 'command';
      command: string;
      from: string;
      appid: string | undefined;
      env: NodeJS.ProcessEnv;
      /** The platform's component token command: its AppID, given as WX_COMPONENT_APPID. */
      componentAppid?: string;
    }
  | {
      kind: 'url';
      /** {appid} filled in. */
      url: URL;
      from: string;
      /** WX_TOKEN_URL_AUTH, sent as the Authorization header. */
      authorization: string | undefined;
      proxy: ProxyChoice;
      /** How messages name its setting and its Authorization's variable, when not --token-url and WX_TOKEN_URL_AUTH. */
      names?: { setting: string; authorizationEnv: string };
    }
  /**
   * An authorized account's tokens from api_authorizer_token (export --authorized): the run makes
   * the provider, which holds the account's refresh token in memory for the run alone.
   */
  | { kind: 'provided'; provider: (signal: AbortSignal | undefined) => TokenProvider; from: string };

/** What the user gave: an explicit token, the AppID and AppSecret, or both; or a token service alone. */
export interface Credentials {
  /** A token command or URL: then `token` is undefined and `app()` gives undefined. */
  service: TokenService | undefined;
  token: Setting | undefined;
  /**
   * With a token given, looked up only when the API refuses it: a run on a good token does
   * not open the config store.
   */
  app(): Promise<AppCredentials | undefined>;
  /** Which account the run is for, as far as it can be told before any call (what a --state file records). */
  account(): Promise<AccountId>;
  /**
   * The account is run through a third-party platform (export --authorized): a refusal of user
   * management is most likely the scope it did not grant the platform, and messages say so first.
   */
  throughPlatform?: boolean;
}

/**
 * The AppID of --appid or WX_APPID, checked at once: with a token given, the AppID is looked up
 * only when the API refuses the token, and a typo would show only then, after a call.
 */
function checkGivenAppid(flagValue: string | undefined, env: NodeJS.ProcessEnv): void {
  const fromFlag = flagValue?.trim();
  if (fromFlag === '-') return;
  if (fromFlag !== undefined && fromFlag !== '') {
    parseAppid(fromFlag, '--appid');
    return;
  }
  const fromEnv = env['WX_APPID']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') parseAppid(fromEnv, 'WX_APPID');
}

/** A platform's settings where an account's were looked for: its accounts are exported with --authorized. */
function platformHint(settings: StoredSettings): string {
  if (settings.get('component-token-command') === undefined && settings.get('component-token-url') === undefined) return '';
  const profile = settings.profile === undefined ? '' : ` --profile ${settings.profile}`;
  const where = settings.profile === undefined ? 'The config' : `Profile ${settings.profile}`;
  return ` ${where} holds a third-party platform's component token source, and no account of its own: export the accounts that authorized the platform with \`wx-followers export --authorized${profile}\`.`;
}

export async function resolveCredentials(
  options: CredentialOptions,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
  proxyFor: (url: URL) => Promise<ProxyChoice>,
): Promise<Credentials> {
  if (options.accessToken?.trim() === '-' && options.secret?.trim() === '-') {
    throw usageError('Only one of --access-token and --secret can read stdin.');
  }
  const service = await topLevelService(options, io.env, await store());
  checkGivenAppid(options.appid, io.env);
  if (service !== undefined) {
    return resolveService(options, io, store, proxyFor);
  }
  const token = await resolveSetting(options.accessToken, 'WX_ACCESS_TOKEN', 'access-token', io, store);
  let appidSetting: Promise<Setting | undefined> | undefined;
  // Once: a value from stdin can be read only once. The config store's (a hand edit) and stdin's are checked too.
  const appidOf = (): Promise<Setting | undefined> =>
    (appidSetting ??= resolveSetting(options.appid, 'WX_APPID', 'appid', io, store).then((setting) => {
      if (setting !== undefined) parseAppid(setting.value, setting.origin);
      return setting;
    }));
  const lookUpApp = async (): Promise<AppCredentials | undefined> => {
    const appid = await appidOf();
    const secret = await resolveSetting(options.secret, 'WX_SECRET', 'secret', io, store);
    if (appid !== undefined && secret !== undefined) {
      return { appid: appid.value, secret: secret.value, origins: { appid: appid.origin, secret: secret.origin } };
    }
    if (token !== undefined) return undefined;
    if (appid !== undefined) {
      throw usageError(
        `An AppID (from ${appid.origin}) but no AppSecret: give it with --secret (--secret - reads stdin), WX_SECRET or \`wx-followers config set secret -\`.`,
      );
    }
    if (secret !== undefined) {
      throw usageError(
        `An AppSecret (from ${secret.origin}) but no AppID: give it with --appid, WX_APPID or \`wx-followers config set appid ...\`.`,
      );
    }
    throw usageError(
      'No credentials. Give an access token with --access-token TOKEN (or --access-token - to read it from stdin), ' +
        'the WX_ACCESS_TOKEN environment variable, or `wx-followers config set access-token TOKEN`. ' +
        `Better: ${HOW_TO_GIVE_APP_CREDENTIALS}${platformHint(await store())}`,
    );
  };
  const account = async (): Promise<AccountId> => {
    const appid = await appidOf();
    if (appid !== undefined) return { appid: appid.value };
    if (token !== undefined) return { tokenFrom: settingPlace(token, io.env) };
    throw new Error('an account was asked for without credentials');
  };
  if (token === undefined) {
    const app = await lookUpApp();
    return { service: undefined, token, app: async () => app, account };
  }
  let app: Promise<AppCredentials | undefined> | undefined;
  return { service: undefined, token, app: () => (app ??= lookUpApp()), account };
}

/** Where a setting was given, for a state file: the config store's names its file. */
function settingPlace(setting: Setting, env: NodeJS.ProcessEnv): string {
  return setting.origin.startsWith('config key') ? `${setting.origin} in ${configFilePath(env)}` : setting.origin;
}

type SourceKind = 'token' | 'secret' | 'command' | 'url';

/** What gives the tool a token, at each level: the AppID alone gives none (every source may use it). */
const SOURCES: readonly { kind: SourceKind; option: keyof CredentialOptions; flag: string; env: string; key: ConfigKey }[] = [
  { kind: 'token', option: 'accessToken', flag: '--access-token', env: 'WX_ACCESS_TOKEN', key: 'access-token' },
  { kind: 'secret', option: 'secret', flag: '--secret', env: 'WX_SECRET', key: 'secret' },
  { kind: 'command', option: 'tokenCommand', flag: '--token-command', env: 'WX_TOKEN_COMMAND', key: 'token-command' },
  { kind: 'url', option: 'tokenUrl', flag: '--token-url', env: 'WX_TOKEN_URL', key: 'token-url' },
];

/**
 * The sources of a token given at the first level that gives any: the command line, else the
 * environment, else the config store (a level wins whole: a token command on the command line
 * is taken over a WX_SECRET). A token command or URL beside any other source at that level is a
 * usage error: which one was meant cannot be told, and a run must never mint a token that a
 * central server owns. An access token beside an AppSecret is today's pair (the token first, the
 * AppSecret when it is refused). Undefined when no level gives a token command or URL before one
 * gives another source; the config store's other keys are then left to be read in their usual order.
 */
async function topLevelService(options: CredentialOptions, env: NodeJS.ProcessEnv, store: StoredSettings): Promise<SourceKind | undefined> {
  type Source = (typeof SOURCES)[number];
  const levels = [
    { where: 'on the command line', value: (source: Source) => options[source.option]?.trim(), name: (source: Source) => source.flag },
    { where: 'in the environment', value: (source: Source) => env[source.env]?.trim(), name: (source: Source) => source.env },
    {
      where: `in the config file ${configFilePath(env)}${store.profile === undefined ? '' : ` (profile ${store.profile})`}`,
      value: (source: Source) => store.get(source.key),
      name: (source: Source) => source.key,
    },
  ];
  const isService = (source: Source): boolean => source.kind === 'command' || source.kind === 'url';
  for (const [index, level] of levels.entries()) {
    const given = (source: Source): boolean => {
      const value = level.value(source);
      return value !== undefined && value !== '';
    };
    const services = SOURCES.filter((source) => isService(source) && given(source));
    if (services.length === 0) {
      // The last level is read by the usual path, in its usual order.
      if (index === levels.length - 1 || SOURCES.some((source) => !isService(source) && given(source))) return undefined;
      continue;
    }
    const all = SOURCES.filter(given);
    if (all.length > 1) {
      const names = all.map((source) => level.name(source)).join(' and ');
      const remedy = index === levels.length - 1 ? ' (`wx-followers config unset KEY` removes one)' : '';
      throw usageError(
        `${names} were given together ${escapeText(level.where)}: give only one source of the token${remedy}. ` +
          'With a token command or URL the tool takes every token from it and needs no access token or AppSecret of its own.',
      );
    }
    return services[0]?.kind;
  }
  return undefined;
}

/** The token command or URL of the top level; the AppID, if known, goes with it. */
async function resolveService(
  options: CredentialOptions,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
  proxyFor: (url: URL) => Promise<ProxyChoice>,
): Promise<Credentials> {
  const appid = await resolveSetting(options.appid, 'WX_APPID', 'appid', io, store);
  if (appid !== undefined) parseAppid(appid.value, appid.origin);
  const command = await resolveSetting(options.tokenCommand, 'WX_TOKEN_COMMAND', 'token-command', io, store);
  let service: TokenService;
  let tokenFrom: string;
  if (command !== undefined) {
    service = { kind: 'command', command: command.value, from: command.origin, appid: appid?.value, env: io.env };
    tokenFrom = `the token command from ${settingPlace(command, io.env)}`;
  } else {
    const setting = await resolveSetting(options.tokenUrl, 'WX_TOKEN_URL', 'token-url', io, store);
    if (setting === undefined) throw new Error('a token URL was planned without one');
    const url = parseTokenUrl(setting.value, setting.origin, appid?.value);
    const authorization = io.env['WX_TOKEN_URL_AUTH']?.trim();
    service = { kind: 'url', url, from: setting.origin, authorization: authorization || undefined, proxy: await proxyFor(url) };
    tokenFrom = `the token service ${url.origin}${url.pathname} from ${settingPlace(setting, io.env)}`;
  }
  const account = async (): Promise<AccountId> => (appid === undefined ? { tokenFrom } : { appid: appid.value });
  return { service, token: undefined, app: async () => undefined, account };
}
