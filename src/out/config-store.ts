import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { shown, ExitCode, WxError, usageError } from '../errors.js';

export const CONFIG_KEYS = ['access-token', 'appid', 'secret', 'base-url', 'proxy'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

const SECRET_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>(['access-token', 'secret']);

export function isSecretKey(key: ConfigKey): boolean {
  return SECRET_KEYS.has(key);
}

/**
 * Where stable tokens are kept between runs, one per AppID, each with a fingerprint of the
 * AppSecret it was got with; `config unset token-cache` clears it.
 */
export const TOKEN_CACHE_KEY = 'token-cache';

export interface CachedToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** The AppID and AppSecret a cached token was got with. */
export interface TokenOwner {
  appid: string;
  secret: string;
}

export function parseConfigKey(key: string): ConfigKey {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
    throw usageError(`Unknown config key '${shown(key)}'. The keys are: ${CONFIG_KEYS.join(', ')}.`);
  }
  return key as ConfigKey;
}

/**
 * Tells whether a token was got with this AppSecret without keeping the secret: a SHA-256 of it,
 * under the AppID and this tool's name, so that the digest means nothing anywhere else.
 */
export function secretFingerprint(owner: TokenOwner): string {
  return createHash('sha256').update(`wx-followers token cache\0${owner.appid}\0${owner.secret}`).digest('hex');
}

export interface ConfigStore {
  readonly path: string;
  get(key: ConfigKey): string | undefined;
  set(key: ConfigKey, value: string): void;
  delete(key: ConfigKey | typeof TOKEN_CACHE_KEY): void;
  /** The token cached for this AppID, if it was got with this AppSecret. */
  cachedToken(owner: TokenOwner): CachedToken | undefined;
  cacheToken(owner: TokenOwner, token: CachedToken): void;
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
  const cwd = configDirectory(env);
  const path = configFilePath(env);
  // conf reads the whole file on every get and set: any of them may meet a file spoilt since.
  const guarded = <Result>(work: () => Result): Result => {
    try {
      return work();
    } catch (error) {
      throw unreadableConfig(path, error);
    }
  };
  const conf = guarded(
    () =>
      new Conf<Record<string, unknown>>({
        projectName: 'wx-followers',
        projectSuffix: '',
        configFileMode: 0o600,
        cwd,
        deserialize: parseConfigText,
      }),
  );
  return {
    path: conf.path,
    get: (key) =>
      storedString(
        path,
        key,
        guarded(() => conf.get(key)),
      ),
    // conf writes a new file and renames it over the old one, so every write leaves it 0600.
    set: (key, value) => guarded(() => conf.set(key, value)),
    delete: (key) => guarded(() => conf.delete(key)),
    cachedToken: (owner) => {
      const entry = tokenCache()[owner.appid];
      if (typeof entry !== 'object' || entry === null) return undefined;
      const { accessToken, expiresAt, secretSha256 } = entry as Partial<CachedToken & { secretSha256: string }>;
      if (typeof accessToken !== 'string' || typeof expiresAt !== 'number') return undefined;
      // An entry of an older version has no fingerprint: it cannot vouch for the secret, so it is
      // not used (stable_token hands back the same token while it lives; nothing is retired).
      if (secretSha256 !== secretFingerprint(owner)) return undefined;
      return { accessToken, expiresAt };
    },
    cacheToken: (owner, token) =>
      guarded(() => conf.set(TOKEN_CACHE_KEY, { ...tokenCache(), [owner.appid]: { ...token, secretSha256: secretFingerprint(owner) } })),
    forgetToken: (appid) => {
      const { [appid]: _forgotten, ...rest } = tokenCache();
      guarded(() => conf.set(TOKEN_CACHE_KEY, rest));
    },
    cachedTokenCount: () => Object.keys(tokenCache()).length,
  };

  // Read and written whole: an AppID is a key of its own, never a dotted path of conf's.
  function tokenCache(): Record<string, unknown> {
    const cache = guarded(() => conf.get(TOKEN_CACHE_KEY));
    return typeof cache === 'object' && cache !== null ? (cache as Record<string, unknown>) : {};
  }
}

/**
 * One key read straight from the config file, without loading conf (about 140 ms of a start-up),
 * for a setting that every run looks up (proxy): a run that needs nothing else of the store does
 * not pay for it. The file is where conf keeps it (configDirectory); a file that cannot
 * be read as JSON opens the real store, which says what is wrong with it.
 */
export async function peekConfigValue(
  env: NodeJS.ProcessEnv,
  key: ConfigKey,
  openStore: () => Promise<ConfigStore>,
): Promise<string | undefined> {
  // The directory the store itself uses: never one under the current directory.
  const path = configFilePath(env);
  let value: unknown;
  try {
    value = parseConfigText(await readFile(path, 'utf8'))[key];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return (await openStore()).get(key);
  }
  return storedString(path, key, value);
}

/** The config file, where conf keeps it; `config path` prints it without reading the file. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  return join(configDirectory(env), 'config.json');
}

/** Thrown for a file that is JSON but not an object: conf would take `[1, 2]` for `{"0": 1, "1": 2}`. */
class NotAnObject extends Error {}

/**
 * The config file's text as the store reads it. A UTF-8 BOM (Windows Notepad saves one) is
 * dropped: JSON.parse refuses it, and it is no part of the content.
 */
function parseConfigText(text: string): Record<string, unknown> {
  const content: unknown = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new NotAnObject();
  return content as Record<string, unknown>;
}

/**
 * A stored value: trimmed, since hand-edited values keep a stray space or line break that would
 * only be refused later; blank is not set. Any other type is a hand edit gone wrong: said,
 * rather than the key seeming unset (and the user told there are no credentials).
 */
function storedString(path: string, key: ConfigKey, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    // Never the value: under a secret's key it may be the secret, unquoted.
    throw usageError(
      `The config file ${path} has a value for the key ${key} that is not a string (${jsonType(value)}). ` +
        `Quote it in the file, or set it again with \`wx-followers config set ${key} ...\`.`,
    );
  }
  return value.trim() !== '' ? value.trim() : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Shows enough of a secret to tell two apart, never enough to use it. */
export function mask(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${'*'.repeat(Math.min(value.length - 4, 12))}${value.slice(-4)}`;
}

/**
 * The store's directory: WX_FOLLOWERS_CONFIG_DIR, else the platform's config directory (the one
 * env-paths gives conf). Built here from an absolute home only: an empty or relative HOME (cron,
 * `env -i`) would put the file, secrets and all, in whatever directory the command runs in.
 */
export function configDirectory(env: NodeJS.ProcessEnv): string {
  const override = env['WX_FOLLOWERS_CONFIG_DIR']?.trim();
  if (override !== undefined && override !== '') return resolve(override);
  const home = absoluteHome();
  if (process.platform === 'darwin') return join(home, 'Library', 'Preferences', 'wx-followers');
  if (process.platform === 'win32') {
    const appData = env['APPDATA'];
    return join(appData !== undefined && isAbsolute(appData) ? appData : join(home, 'AppData', 'Roaming'), 'wx-followers', 'Config');
  }
  // The XDG base directory spec: a relative XDG_CONFIG_HOME is to be ignored.
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.config'), 'wx-followers');
}

function absoluteHome(): string {
  const fromEnv = homedir();
  if (isAbsolute(fromEnv)) return fromEnv;
  try {
    // The account's home from the password database, which HOME only overrides.
    const fromAccount = userInfo().homedir;
    if (isAbsolute(fromAccount)) return fromAccount;
  } catch {
    // No entry for this user (a container's arbitrary uid): nothing better to go on.
  }
  throw usageError(
    'Cannot tell where the config store goes: HOME is not an absolute path. Set HOME, or WX_FOLLOWERS_CONFIG_DIR to a directory for it.',
  );
}

/** Never the content: a hand-edited file may hold a secret in the very place that broke it. */
function unreadableConfig(path: string, error: unknown): WxError {
  if (error instanceof WxError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    error instanceof SyntaxError
      ? 'it is not valid JSON'
      : error instanceof NotAnObject
        ? 'it is not a JSON object'
        : `it cannot be read or written (${code ?? 'unknown error'})`;
  return new WxError(
    `The config file ${path} is unusable: ${why}. Fix it by hand (a JSON object such as {"appid": "wx..."}), ` +
      `or move it away to start with an empty one (mv '${path}' '${path}.bad'); then set the values again with \`wx-followers config set\`.`,
    ExitCode.Usage,
    { cause: error },
  );
}
