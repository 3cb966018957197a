import { usageError } from './errors.js';

export const CONFIG_KEYS = ['access-token', 'appid', 'secret', 'base-url'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

const SECRET_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>(['access-token', 'secret']);

export function isSecretKey(key: ConfigKey): boolean {
  return SECRET_KEYS.has(key);
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
  delete(key: ConfigKey): void;
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
  };
}

/** Shows enough of a secret to tell two apart, never enough to use it. */
export function mask(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${'*'.repeat(Math.min(value.length - 4, 12))}${value.slice(-4)}`;
}
