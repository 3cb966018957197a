import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError } from './errors.js';

export const CONFIG_KEYS = ['access-token', 'appid', 'secret', 'base-url', 'proxy'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

const SECRET_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>(['access-token', 'secret']);

export function isSecretKey(key: ConfigKey): boolean {
  return SECRET_KEYS.has(key);
}

/** Where stable tokens are kept between runs, keyed by AppID; `config unset token-cache` clears it. */
export const TOKEN_CACHE_KEY = 'token-cache';

export interface CachedToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export function parseConfigKey(key: string): ConfigKey {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
    throw usageError(`Unknown config key '${key}'. The keys are: ${CONFIG_KEYS.join(', ')}.`);
  }
  return key as ConfigKey;
}

export interface ConfigStore {
  readonly path: string;
  get(key: ConfigKey): string | undefined;
  set(key: ConfigKey, value: string): void;
  delete(key: ConfigKey | typeof TOKEN_CACHE_KEY): void;
  cachedToken(appid: string): CachedToken | undefined;
  cacheToken(appid: string, token: CachedToken): void;
  forgetToken(appid: string): void;
  /** How many AppIDs have a cached token. */
  cachedTokenCount(): number;
}

/**
 * The conf store, opened only when a command needs it (conf's import is heavy for start-up).
 * WX_FOLLOWERS_CONFIG_DIR moves it, for tests and for cron jobs that serve several accounts.
 */
export async function openConfigStore(env: NodeJS.ProcessEnv): Promise<ConfigStore> {
  const { default: Conf } = await import('conf');
  const cwd = env['WX_FOLLOWERS_CONFIG_DIR'];
  const conf = new Conf<Record<string, unknown>>({
    projectName: 'wx-followers',
    projectSuffix: '',
    configFileMode: 0o600,
    ...(cwd === undefined || cwd === '' ? {} : { cwd }),
  });
  return {
    path: conf.path,
    get: (key) => {
      const value = conf.get(key);
      return typeof value === 'string' && value !== '' ? value : undefined;
    },
    // conf writes a new file and renames it over the old one, so every write leaves it 0600.
    set: (key, value) => conf.set(key, value),
    delete: (key) => conf.delete(key),
    cachedToken: (appid) => {
      const entry = tokenCache()[appid];
      if (typeof entry !== 'object' || entry === null) return undefined;
      const { accessToken, expiresAt } = entry as Partial<CachedToken>;
      if (typeof accessToken !== 'string' || typeof expiresAt !== 'number') return undefined;
      return { accessToken, expiresAt };
    },
    cacheToken: (appid, token) => conf.set(TOKEN_CACHE_KEY, { ...tokenCache(), [appid]: token }),
    forgetToken: (appid) => {
      const { [appid]: _forgotten, ...rest } = tokenCache();
      conf.set(TOKEN_CACHE_KEY, rest);
    },
    cachedTokenCount: () => Object.keys(tokenCache()).length,
  };

  // Read and written whole: an AppID is a key of its own, never a dotted path of conf's.
  function tokenCache(): Record<string, unknown> {
    const cache = conf.get(TOKEN_CACHE_KEY);
    return typeof cache === 'object' && cache !== null ? (cache as Record<string, unknown>) : {};
  }
}

/**
 * One key read straight from the config file, without loading conf (about 140 ms of a start-up),
 * for a setting that every run looks up (proxy): a run that needs nothing else of the store does
 * not pay for it. The file is where conf keeps it (the same env-paths call); a file that cannot
 * be read as JSON opens the real store, which says what is wrong with it.
 */
export async function peekConfigValue(
  env: NodeJS.ProcessEnv,
  key: ConfigKey,
  openStore: () => Promise<ConfigStore>,
): Promise<string | undefined> {
  const cwd = env['WX_FOLLOWERS_CONFIG_DIR'];
  let dir: string;
  if (cwd === undefined || cwd === '') {
    const { default: envPaths } = await import('env-paths');
    dir = envPaths('wx-followers', { suffix: '' }).config;
  } else {
    dir = cwd;
  }
  let content: unknown;
  try {
    content = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return (await openStore()).get(key);
  }
  const value = typeof content === 'object' && content !== null ? (content as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Shows enough of a secret to tell two apart, never enough to use it. */
export function mask(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${'*'.repeat(Math.min(value.length - 4, 12))}${value.slice(-4)}`;
}
