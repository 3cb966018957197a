import {
  CONFIG_KEYS,
  TOKEN_CACHE_KEY,
  configFilePath,
  isSecretKey,
  mask,
  openConfigStore,
  parseConfigKey,
  type ConfigKey,
  type ConfigStore,
} from '../out/config-store.js';
import { escapeText, ExitCode, usageError } from '../errors.js';
import { readStdinValue, type IOStreams } from '../console/streams.js';
import { EXAMPLE_APPID, parseAppid, parseBaseUrl, parseTokenUrl } from '../plan/options.js';
import { maskProxyUrl, parseProxyUrl } from '../api/proxy.js';
import { Reporter } from '../console/report.js';

export type ConfigAction =
  | { action: 'set'; key: string; value: string }
  | { action: 'get'; key: string; reveal: boolean }
  | { action: 'unset'; key: string }
  | { action: 'list' }
  | { action: 'path' };

export async function runConfig(request: ConfigAction, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  try {
    // The command that finds the file: it must work when the file is broken, so it never reads it.
    if (request.action === 'path') {
      io.stdout.write(`${configFilePath(io.env)}\n`);
      return ExitCode.Ok;
    }
    // Every other action reads the whole file first: a broken one is refused (exit 2), never
    // rewritten, so that a hand-edited secret in it is not lost to a `set` or an `unset`.
    const store = await openConfigStore(io.env);
    switch (request.action) {
      case 'list': {
        for (const key of CONFIG_KEYS) {
          const value = store.get(key);
          if (value !== undefined) io.stdout.write(`${key}=${shown(key, value)}\n`);
        }
        const cache = tokenCacheSummary(store);
        if (cache !== undefined) io.stdout.write(`${TOKEN_CACHE_KEY}=${cache}\n`);
        return ExitCode.Ok;
      }
      case 'get': {
        // token-cache is listed, so it can be asked for: its summary, never the tokens (not even with --reveal).
        const key = request.key === TOKEN_CACHE_KEY ? TOKEN_CACHE_KEY : parseConfigKey(request.key);
        const value = key === TOKEN_CACHE_KEY ? tokenCacheSummary(store) : store.get(key);
        if (value === undefined) {
          reporter.line(`wx-followers: config key ${key} is not set.`);
          return ExitCode.Failure;
        }
        // --reveal is for $(...) in scripts: the value as stored, which `config set` checked.
        io.stdout.write(`${request.reveal || key === TOKEN_CACHE_KEY ? value : shown(key, value)}\n`);
        return ExitCode.Ok;
      }
      case 'unset':
        await store.delete(request.key === TOKEN_CACHE_KEY ? TOKEN_CACHE_KEY : parseConfigKey(request.key));
        return ExitCode.Ok;
      case 'set': {
        const key = parseConfigKey(request.key);
        // '-' keeps a secret out of the shell's history and the process list.
        // Trimmed as every setting is read: a pasted line break would otherwise be stored with it.
        const given = request.value.trim();
        const value = given === '-' ? await readStdinValue(io, `config set ${key} -`, key) : given;
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
        if (key === 'token-url') parseTokenUrl(value, 'config set token-url', EXAMPLE_APPID);
        await store.set(key, value);
        return ExitCode.Ok;
      }
    }
  } catch (error) {
    return reporter.error(error);
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * A value as get and list print it: secrets masked, a proxy URL without its password, and
 * escaped, since a hand-edited file may hold a terminal escape.
 */
function shown(key: ConfigKey, value: string): string {
  if (key === 'proxy') return escapeText(maskProxyUrl(value));
  if (key === 'token-url') return escapeText(maskQuery(value));
  return escapeText(isSecretKey(key) ? mask(value) : value);
}

/** A token URL without its query, which may carry a key: `?***`. */
function maskQuery(value: string): string {
  const query = value.indexOf('?');
  return query === -1 ? value : `${value.slice(0, query)}?***`;
}

/** What list and get say of the token cache: how many AppIDs have a token, never a token. */
function tokenCacheSummary(store: ConfigStore): string | undefined {
  const cached = store.cachedTokenCount();
  return cached > 0 ? `(stable tokens of ${cached} AppID${cached === 1 ? '' : 's'})` : undefined;
}
