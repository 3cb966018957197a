import { maskProxyUrl, parseProxyUrl } from '../api/proxy.js';
import { readStdinValue, type IOStreams } from '../console/streams.js';
import { escapeText, usageError } from '../errors.js';
import {
  DEFAULT_PROFILE_KEY,
  PROFILE_ONLY_KEYS,
  TOKEN_CACHE_KEY,
  configFilePath,
  isSecretKey,
  mask,
  openConfigStore,
  parseConfigKey,
  parseProfileKey,
  parseProfileName,
  type ConfigStore,
  type ProfileKey,
} from '../out/config-store.js';
import { EXAMPLE_APPID, parseAppid, parseBaseUrl, parseComponentTokenUrl, parseTokenUrl } from './options.js';
import { existingProfile, parseTimeZone } from './profiles.js';
import { refuseClosedStdout } from './stdout.js';

/** What commander hands over for `config <action>`; `profile` is --profile NAME, the section acted on. */
export type ConfigFlags =
  | { action: 'set'; key: string; value: string; profile?: string }
  | { action: 'get'; key: string; reveal: boolean; profile?: string }
  | { action: 'unset'; key: string | undefined; profile?: string; yes?: boolean }
  | { action: 'list' }
  | { action: 'profiles' }
  | { action: 'path' };

type StoredKey = ProfileKey | typeof TOKEN_CACHE_KEY | typeof DEFAULT_PROFILE_KEY;

export type ConfigPlan =
  | { action: 'path'; path: string }
  | { action: 'list'; store: ConfigStore }
  | { action: 'profiles'; store: ConfigStore }
  | { action: 'get'; store: ConfigStore; key: StoredKey; reveal: boolean; profile: string | undefined }
  | { action: 'unset'; store: ConfigStore; key: StoredKey; profile: string | undefined }
  /** `confirmed`: --yes; else the run asks on the terminal (the plan made sure there is one). */
  | { action: 'remove-profile'; store: ConfigStore; profile: string; confirmed: boolean }
  | { action: 'set'; store: ConfigStore; key: ProfileKey; value: string; profile: string | undefined }
  | { action: 'set-default-profile'; store: ConfigStore; profile: string };

/** The key and value checked, and the config file read whole, before anything is written. */
export async function planConfig(flags: ConfigFlags, io: IOStreams): Promise<ConfigPlan> {
  // The actions that print: what they print is their answer.
  if (flags.action === 'path' || flags.action === 'list' || flags.action === 'profiles' || flags.action === 'get') {
    refuseClosedStdout(io, `what config ${flags.action} prints`);
  }
  // The command that finds the file: it must work when the file is broken, so it never reads it.
  if (flags.action === 'path') return { action: 'path', path: configFilePath(io.env) };
  // Every other action reads the whole file first: a broken one is refused (exit 2), never
  // rewritten, so that a hand-edited secret in it is not lost to a `set` or an `unset`.
  const store = await openConfigStore(io.env);
  switch (flags.action) {
    case 'list':
    case 'profiles':
      return { action: flags.action, store };
    case 'get': {
      // token-cache is listed, so it can be asked for: its summary, never the tokens (not even with --reveal).
      const profile = givenProfile(store, flags.profile, true);
      return { action: 'get', store, key: storedKey(flags.key, profile), reveal: flags.reveal, profile };
    }
    case 'unset':
      return planUnset(store, flags, io);
    case 'set':
      return planSet(store, flags, io);
  }
}

/** --profile NAME of a config action: a set makes the profile; the other actions need it there. */
function givenProfile(store: ConfigStore, name: string | undefined, mustExist: boolean): string | undefined {
  if (name === undefined) return undefined;
  const profile = parseProfileName(name, '--profile');
  return mustExist ? existingProfile(store, profile, '--profile') : profile;
}

async function planSet(store: ConfigStore, flags: ConfigFlags & { action: 'set' }, io: IOStreams): Promise<ConfigPlan> {
  const profile = givenProfile(store, flags.profile, false);
  if (flags.key === DEFAULT_PROFILE_KEY) {
    if (profile !== undefined)
      throw usageError(`${DEFAULT_PROFILE_KEY} is a setting of the whole config, not of a profile: leave out --profile.`);
    const name = parseProfileName(flags.value, `config set ${DEFAULT_PROFILE_KEY}`);
    return { action: 'set-default-profile', store, profile: existingProfile(store, name, `config set ${DEFAULT_PROFILE_KEY}`) };
  }
  const key = profile === undefined ? topLevelKey(flags.key) : parseProfileKey(flags.key, profile);
  return { action: 'set', store, key, value: await checkedValue(key, flags.value, io), profile };
}

function planUnset(store: ConfigStore, flags: ConfigFlags & { action: 'unset' }, io: IOStreams): ConfigPlan {
  const profile = givenProfile(store, flags.profile, true);
  if (flags.key !== undefined) return { action: 'unset', store, key: storedKey(flags.key, profile), profile };
  if (profile === undefined) throw usageError('config unset needs a key, or --profile NAME to remove that profile.');
  // Asked on a terminal; a script says --yes, so that a pipe's stray line never answers for it.
  if (flags.yes !== true && !io.stdinIsTTY) {
    throw usageError(
      `config unset --profile ${profile} removes the whole profile: confirm it with --yes (stdin is not a terminal to ask on).`,
    );
  }
  return { action: 'remove-profile', store, profile, confirmed: flags.yes === true };
}

function storedKey(key: string, profile: string | undefined): StoredKey {
  if (profile !== undefined) return parseProfileKey(key, profile);
  if (key === TOKEN_CACHE_KEY || key === DEFAULT_PROFILE_KEY) return key;
  return topLevelKey(key);
}

/** A key outside any profile: a config key (db too: a single account's database); output, state and time-zone are told where they belong. */
function topLevelKey(key: string): ProfileKey {
  if ((PROFILE_ONLY_KEYS as readonly string[]).includes(key)) {
    throw usageError(`${key} is a setting of a profile: give --profile NAME (\`wx-followers config --profile NAME set ${key} ...\`).`);
  }
  return parseConfigKey(key);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** A value `config set` may store: one that every reader of the key would take. */
async function checkedValue(key: ProfileKey, given: string, io: IOStreams): Promise<string> {
  // '-' keeps a secret out of the shell's history and the process list.
  // Trimmed as every setting is read: a pasted line break would otherwise be stored with it.
  const trimmed = given.trim();
  const value = trimmed === '-' ? await readStdinValue(io, `config set ${key} -`, key) : trimmed;
  if (value === '') throw usageError(`config set ${key} needs a value that is not empty.`);
  // A pasted escape or line break would be stored, then sent, printed or written into a header.
  if (CONTROL.test(value)) {
    throw usageError(
      `config set ${key}: the value holds a control character (a line break, tab or terminal escape); none of the keys takes one.`,
    );
  }
  if (key === 'appid' || key === 'component-appid') parseAppid(value, `\`config set ${key}\``);
  if (key === 'base-url') parseBaseUrl(value, 'config key base-url');
  if (key === 'proxy') parseProxyUrl(value, 'config set proxy');
  if (key === 'token-url') parseTokenUrl(value, 'config set token-url', EXAMPLE_APPID);
  if (key === 'authorizer-token-url')
    parseTokenUrl(value.split('{appid}').join(EXAMPLE_APPID), 'config set authorizer-token-url', undefined);
  if (key === 'component-token-url') parseComponentTokenUrl(value, 'config set component-token-url', EXAMPLE_APPID);
  if (key === 'time-zone') parseTimeZone(value, 'config set time-zone');
  return value;
}

/**
 * A value as get and list print it: secrets masked, a proxy URL without its password, and
 * escaped, since a hand-edited file may hold a terminal escape.
 */
export function shownSetting(key: ProfileKey, value: string): string {
  if (key === 'proxy') return escapeText(maskProxyUrl(value));
  if (key === 'token-url' || key === 'component-token-url' || key === 'authorizer-token-url') return escapeText(maskQuery(value));
  if (key === 'db') return escapeText(maskUrlPassword(value));
  return escapeText(isSecretKey(key) ? mask(value) : value);
}

/** A postgres:// URL without its password: `postgres://user:***@host/db`; a file path as it is. */
function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** A token URL without its query, which may carry a key: `?***`. */
function maskQuery(value: string): string {
  const query = value.indexOf('?');
  return query === -1 ? value : `${value.slice(0, query)}?***`;
}
