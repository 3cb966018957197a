import type { TokenSource } from './api/client.js';
import type { ConfigKey, ConfigStore } from './config-store.js';
import { usageError } from './errors.js';
import { readAll, type IOStreams } from './io.js';

/** Opens the config store on first use only, and once. */
export function lazyStore(open: () => Promise<ConfigStore>): () => Promise<ConfigStore> {
  let store: Promise<ConfigStore> | undefined;
  return () => (store ??= open());
}

/** A value given by flag ('-' reads stdin), else env, else the config store. */
export async function resolveSetting(
  flagValue: string | undefined,
  envName: string,
  key: ConfigKey,
  io: IOStreams,
  store: () => Promise<ConfigStore>,
): Promise<{ value: string; origin: string } | undefined> {
  if (flagValue === '-') {
    const value = (await readAll(io.stdin)).trim();
    if (value === '') throw usageError(`--${key} - read nothing from stdin.`);
    return { value, origin: 'stdin' };
  }
  if (flagValue !== undefined && flagValue !== '') return { value: flagValue, origin: `--${key}` };
  const fromEnv = io.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: envName };
  const fromStore = (await store()).get(key);
  if (fromStore !== undefined) return { value: fromStore, origin: `config key ${key}` };
  return undefined;
}

/** A token given as it is, by flag, env or config. */
export class GivenToken implements TokenSource {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  async token(): Promise<string> {
    return this.#token;
  }
}

export async function resolveAccessToken(
  flagValue: string | undefined,
  io: IOStreams,
  store: () => Promise<ConfigStore>,
): Promise<string> {
  const found = await resolveSetting(flagValue, 'WX_ACCESS_TOKEN', 'access-token', io, store);
  if (found === undefined) {
    throw usageError(
      'No access token. Give one with --access-token TOKEN (or --access-token - to read it from stdin), ' +
        'the WX_ACCESS_TOKEN environment variable, or `wx-followers config set access-token TOKEN`.',
    );
  }
  return found.value;
}
