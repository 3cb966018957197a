import { maskProxyUrl, parseProxyUrl } from '../api/proxy.js';
import { readStdinValue, type IOStreams } from '../console/streams.js';
import { escapeText, usageError } from '../errors.js';
import {
  TOKEN_CACHE_KEY,
  configFilePath,
  isSecretKey,
  mask,
  openConfigStore,
  parseConfigKey,
  type ConfigKey,
  type ConfigStore,
} from '../out/config-store.js';
import { parseAppid, parseBaseUrl } from './options.js';

/** What commander hands over for `config <action>`. */
export type ConfigFlags =
  | { action: 'set'; key: string; value: string }
  | { action: 'get'; key: string; reveal: boolean }
  | { action: 'unset'; key: string }
  | { action: 'list' }
  | { action: 'path' };

type StoredKey = ConfigKey | typeof TOKEN_CACHE_KEY;

export type ConfigPlan =
  | { action: 'path'; path: string }
  | { action: 'list'; store: ConfigStore }
  | { action: 'get'; store: ConfigStore; key: StoredKey; reveal: boolean }
  | { action: 'unset'; store: ConfigStore; key: StoredKey }
  | { action: 'set'; store: ConfigStore; key: ConfigKey; value: string };

/** The key and value checked, and the config file read whole, before anything is written. */
export async function planConfig(flags: ConfigFlags, io: IOStreams): Promise<ConfigPlan> {
  // The command that finds the file: it must work when the file is broken, so it never reads it.
  if (flags.action === 'path') return { action: 'path', path: configFilePath(io.env) };
  // Every other action reads the whole file first: a broken one is refused (exit 2), never
  // rewritten, so that a hand-edited secret in it is not lost to a `set` or an `unset`.
  const store = await openConfigStore(io.env);
  switch (flags.action) {
    case 'list':
      return { action: 'list', store };
    case 'get':
      // token-cache is listed, so it can be asked for: its summary, never the tokens (not even with --reveal).
      return { action: 'get', store, key: storedKey(flags.key), reveal: flags.reveal };
    case 'unset':
      return { action: 'unset', store, key: storedKey(flags.key) };
    case 'set': {
      const key = parseConfigKey(flags.key);
      return { action: 'set', store, key, value: await checkedValue(key, flags.value, io) };
    }
  }
}

function storedKey(key: string): StoredKey {
  return key === TOKEN_CACHE_KEY ? TOKEN_CACHE_KEY : parseConfigKey(key);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** A value `config set` may store: one that every reader of the key would take. */
async function checkedValue(key: ConfigKey, given: string, io: IOStreams): Promise<string> {
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
  if (key === 'appid') parseAppid(value, '`config set appid`');
  if (key === 'base-url') parseBaseUrl(value, 'config key base-url');
  if (key === 'proxy') parseProxyUrl(value, 'config set proxy');
  return value;
}

/**
 * A value as get and list print it: secrets masked, a proxy URL without its password, and
 * escaped, since a hand-edited file may hold a terminal escape.
 */
export function shownSetting(key: ConfigKey, value: string): string {
  if (key === 'proxy') return escapeText(maskProxyUrl(value));
  return escapeText(isSecretKey(key) ? mask(value) : value);
}
