import { CONFIG_KEYS, TOKEN_CACHE_KEY, isSecretKey, mask, openConfigStore, parseConfigKey, type ConfigKey } from '../config-store.js';
import { ExitCode, usageError } from '../errors.js';
import { readStdinValue, type IOStreams } from '../io.js';
import { parseBaseUrl } from '../options.js';
import { maskProxyUrl, parseProxyUrl } from '../proxy.js';
import { Reporter } from '../report.js';

export type ConfigAction =
  | { action: 'set'; key: string; value: string }
  | { action: 'get'; key: string; reveal: boolean }
  | { action: 'unset'; key: string }
  | { action: 'list' }
  | { action: 'path' };

export async function runConfig(request: ConfigAction, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  try {
    const store = await openConfigStore(io.env);
    switch (request.action) {
      case 'path':
        io.stdout.write(`${store.path}\n`);
        return ExitCode.Ok;
      case 'list': {
        for (const key of CONFIG_KEYS) {
          const value = store.get(key);
          if (value !== undefined) io.stdout.write(`${key}=${shown(key, value)}\n`);
        }
        const cached = store.cachedTokenCount();
        if (cached > 0) io.stdout.write(`${TOKEN_CACHE_KEY}=(stable tokens of ${cached} AppID${cached === 1 ? '' : 's'})\n`);
        return ExitCode.Ok;
      }
      case 'get': {
        const key = parseConfigKey(request.key);
        const value = store.get(key);
        if (value === undefined) {
          reporter.line(`wx-followers: config key ${key} is not set.`);
          return ExitCode.Failure;
        }
        io.stdout.write(`${request.reveal ? value : shown(key, value)}\n`);
        return ExitCode.Ok;
      }
      case 'unset':
        store.delete(request.key === TOKEN_CACHE_KEY ? TOKEN_CACHE_KEY : parseConfigKey(request.key));
        return ExitCode.Ok;
      case 'set': {
        const key = parseConfigKey(request.key);
        // '-' keeps a secret out of the shell's history and the process list.
        // Trimmed as every setting is read: a pasted line break would otherwise be stored with it.
        const given = request.value.trim();
        const value = given === '-' ? await readStdinValue(io, `config set ${key} -`, key) : given;
        if (value === '') throw usageError(`config set ${key} needs a value that is not empty.`);
        if (key === 'base-url') parseBaseUrl(value, 'config key base-url');
        if (key === 'proxy') parseProxyUrl(value, 'config set proxy');
        store.set(key, value);
        return ExitCode.Ok;
      }
    }
  } catch (error) {
    return reporter.error(error);
  }
}

/** A value as get and list print it: secrets masked, and a proxy URL without its password. */
function shown(key: ConfigKey, value: string): string {
  if (key === 'proxy') return maskProxyUrl(value);
  return isSecretKey(key) ? mask(value) : value;
}
