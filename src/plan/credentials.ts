import { configFilePath, type ConfigKey, type StoredSettings } from '../out/config-store.js';
import type { AppCredentials } from '../api/endpoints/stable-token.js';
import { HOW_TO_GIVE_APP_CREDENTIALS, usageError } from '../errors.js';
import type { AccountId } from '../openid.js';
import { readStdinValue, type IOStreams } from '../console/streams.js';
import { parseAppid } from './options.js';

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
}

/** What the user gave: an explicit token, the AppID and AppSecret, or both. */
export interface Credentials {
  token: Setting | undefined;
  /**
   * With a token given, looked up only when the API refuses it: a run on a good token does
   * not open the config store.
   */
  app(): Promise<AppCredentials | undefined>;
  /** Which account the run is for, as far as it can be told before any call (what a --state file records). */
  account(): Promise<AccountId>;
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

export async function resolveCredentials(
  options: CredentialOptions,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
): Promise<Credentials> {
  if (options.accessToken?.trim() === '-' && options.secret?.trim() === '-') {
    throw usageError('Only one of --access-token and --secret can read stdin.');
  }
  checkGivenAppid(options.appid, io.env);
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
        `Better: ${HOW_TO_GIVE_APP_CREDENTIALS}`,
    );
  };
  const account = async (): Promise<AccountId> => {
    const appid = await appidOf();
    if (appid !== undefined) return { appid: appid.value };
    if (token !== undefined) return { tokenFrom: tokenSource(token, io.env) };
    throw new Error('an account was asked for without credentials');
  };
  if (token === undefined) {
    const app = await lookUpApp();
    return { token, app: async () => app, account };
  }
  let app: Promise<AppCredentials | undefined> | undefined;
  return { token, app: () => (app ??= lookUpApp()), account };
}

/** Where a token comes from, for a state file: the config store's names its file. */
function tokenSource(token: Setting, env: NodeJS.ProcessEnv): string {
  return token.origin.startsWith('config key') ? `${token.origin} in ${configFilePath(env)}` : token.origin;
}
