import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ExitCode, WxError, usageError, escapeText, shown } from '../errors.js';
import { FileLock, lockHolder } from './lock.js';
import { replaceFileAtomically } from './platform-fs.js';
import {
  CONFIG_KEYS_LISTED,
  CONFIG_KEYS,
  DEFAULT_PROFILE_KEY,
  PROFILE_KEYS,
  TOKEN_CACHE_KEY,
  type ConfigKey,
  type ProfileKey,
} from './config-keys.js';

export {
  CONFIG_KEYS,
  DEFAULT_PROFILE_KEY,
  PROFILE_KEYS,
  PROFILE_ONLY_KEYS,
  TOKEN_CACHE_KEY,
  type ConfigKey,
  type ProfileKey,
} from './config-keys.js';

/** Where the named profiles are kept: an object keyed by name, each an object of ProfileKey. */
const PROFILES_KEY = 'profiles';

/**
 * A profile's name goes into file names ({profile} in -o and --state) and messages: letters,
 * digits, and . _ - after the first, so that it can neither climb out of a folder nor hide text.
 */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseProfileName(name: string, origin: string): string {
  const trimmed = name.trim();
  if (!PROFILE_NAME.test(trimmed)) {
    throw usageError(
      `${origin}: '${shown(name)}' is not a profile name: up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return trimmed;
}

/** The settings of one section of the file: the top level (profile undefined) or a named profile. */
export interface StoredSettings {
  readonly profile: string | undefined;
  get(key: ProfileKey): string | undefined;
}

/** A token command is masked too: it often carries a password or a key of its own (`curl -u user:pass ...`). */
const SECRET_KEYS: ReadonlySet<ProfileKey> = new Set<ProfileKey>([
  'access-token',
  'secret',
  'token-command',
  'component-token-command',
  'authorizer-token-command',
]);

export function isSecretKey(key: ProfileKey): boolean {
  return SECRET_KEYS.has(key);
}

interface CachedToken {
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
    throw usageError(`Unknown config key '${shown(key)}'. The keys are: ${CONFIG_KEYS_LISTED}.`);
  }
  return key as ConfigKey;
}

/** A key `config --profile NAME` takes: every config key, and those only a profile holds. */
export function parseProfileKey(key: string, profile: string): ProfileKey {
  if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
    throw usageError(`Unknown key '${shown(key)}' for profile ${profile}. The keys are: ${CONFIG_KEYS_LISTED}.`);
  }
  return key as ProfileKey;
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
  /** As the file was when the store was opened, with this run's own writes since: the top level's, or a profile's. */
  get(key: ProfileKey, profile?: string): string | undefined;
  set(key: ProfileKey, value: string, profile?: string): Promise<void>;
  delete(key: ProfileKey | typeof TOKEN_CACHE_KEY | typeof DEFAULT_PROFILE_KEY, profile?: string): Promise<void>;
  /** One section's settings, for the readers of settings (resolveSetting). */
  settings(profile: string | undefined): StoredSettings;
  /** The named profiles, in the file's order. */
  profileNames(): string[];
  defaultProfile(): string | undefined;
  setDefaultProfile(name: string): Promise<void>;
  /** Removes the profile, and `default-profile` too if it named it. */
  deleteProfile(name: string): Promise<void>;
  /** The token cached for this AppID, if it was got with this AppSecret. */
  cachedToken(owner: TokenOwner): CachedToken | undefined;
  cacheToken(owner: TokenOwner, token: CachedToken): Promise<void>;
  /** Forgets this AppID's cached token if it is still this one: another run may have cached a newer one. */
  forgetToken(appid: string, accessToken: string): Promise<void>;
  /** How many AppIDs have a cached token. */
  cachedTokenCount(): number;
}

/**
 * Thrown when a change could not be stored: the file cannot be written (a read-only folder, a
 * root-owned file), turned broken since it was read, or stays locked. A run that only caches a
 * token goes on without; `config set` fails with it.
 */
export class ConfigNotSaved extends WxError {}

/** How long a write waits for another process's write of the same file (each takes milliseconds). */
const CONFIG_LOCK_WAIT_MS = 10_000;

/**
 * The config store: the file is read once, when opened, so that a file that cannot be read or is
 * broken stops a run before any call. Every change is a read-modify-write of the file as it is
 * then, under a lock beside it (config.json.lock), written to a temp file and renamed over it,
 * so that two processes (a `config set` while an export caches its token) never lose each
 * other's values. WX_FOLLOWERS_CONFIG_DIR moves it, for tests and for cron jobs that serve
 * several accounts.
 */
export async function openConfigStore(env: NodeJS.ProcessEnv): Promise<ConfigStore> {
  const path = configFilePath(env);
  return new FileConfigStore(path, await readConfigFile(path));
}

class FileConfigStore implements ConfigStore {
  readonly path: string;
  #content: Record<string, unknown>;

  constructor(path: string, content: Record<string, unknown>) {
    this.path = path;
    this.#content = content;
  }

  get(key: ProfileKey, profile?: string): string | undefined {
    if (profile === undefined) return storedString(this.path, key, this.#content[key], undefined);
    return storedString(this.path, key, profileOf(this.path, this.#content, profile)?.[key], profile);
  }

  set(key: ProfileKey, value: string, profile?: string): Promise<void> {
    if (profile === undefined) return this.#update((content) => ({ ...content, [key]: value }));
    return this.#update((content) => withProfile(this.path, content, profile, { ...profileOf(this.path, content, profile), [key]: value }));
  }

  delete(key: ProfileKey | typeof TOKEN_CACHE_KEY | typeof DEFAULT_PROFILE_KEY, profile?: string): Promise<void> {
    if (profile === undefined) return this.#update(({ [key]: _deleted, ...rest }) => rest);
    return this.#update((content) => {
      const section = profileOf(this.path, content, profile);
      if (section === undefined) return content;
      const { [key]: _deleted, ...rest } = section;
      return withProfile(this.path, content, profile, rest);
    });
  }

  settings(profile: string | undefined): StoredSettings {
    return { profile, get: (key) => this.get(key, profile) };
  }

  profileNames(): string[] {
    return Object.keys(profilesOf(this.path, this.#content));
  }

  defaultProfile(): string | undefined {
    const value = this.#content[DEFAULT_PROFILE_KEY];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw notAString(this.path, DEFAULT_PROFILE_KEY, value, undefined);
    return value.trim() === '' ? undefined : value.trim();
  }

  setDefaultProfile(name: string): Promise<void> {
    return this.#update((content) => ({ ...content, [DEFAULT_PROFILE_KEY]: name }));
  }

  deleteProfile(name: string): Promise<void> {
    return this.#update((content) => {
      const { [name]: _deleted, ...others } = profilesOf(this.path, content);
      const { [DEFAULT_PROFILE_KEY]: defaultName, ...rest } = content;
      const kept = defaultName === name ? rest : content;
      return { ...kept, [PROFILES_KEY]: others };
    });
  }

  cachedToken(owner: TokenOwner): CachedToken | undefined {
    const entry = tokenCacheOf(this.#content)[owner.appid];
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { accessToken, expiresAt, secretSha256 } = entry as Partial<CachedToken & { secretSha256: string }>;
    if (typeof accessToken !== 'string' || typeof expiresAt !== 'number') return undefined;
    // An entry of an older version has no fingerprint: it cannot vouch for the secret, so it is
    // not used (stable_token hands back the same token while it lives; nothing is retired).
    if (secretSha256 !== secretFingerprint(owner)) return undefined;
    return { accessToken, expiresAt };
  }

  cacheToken(owner: TokenOwner, token: CachedToken): Promise<void> {
    const entry = { ...token, secretSha256: secretFingerprint(owner) };
    return this.#update((content) => ({ ...content, [TOKEN_CACHE_KEY]: { ...tokenCacheOf(content), [owner.appid]: entry } }));
  }

  forgetToken(appid: string, accessToken: string): Promise<void> {
    return this.#update((content) => {
      const { [appid]: entry, ...rest } = tokenCacheOf(content);
      const same = typeof entry === 'object' && entry !== null && (entry as Partial<CachedToken>).accessToken === accessToken;
      return same ? { ...content, [TOKEN_CACHE_KEY]: rest } : content;
    });
  }

  cachedTokenCount(): number {
    return Object.keys(tokenCacheOf(this.#content)).length;
  }

  /** Locked, the file read afresh, changed, and replaced whole: nothing another process wrote is lost. */
  async #update(change: (content: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    const lock = await lockConfig(this.path);
    try {
      const content = change(await readConfigFile(this.path));
      await writeConfigFile(this.path, content);
      this.#content = content;
    } catch (error) {
      if (error instanceof ConfigNotSaved) throw error;
      // Broken since it was read: refused, never rewritten, so that a hand edit is not lost.
      if (error instanceof WxError) throw new ConfigNotSaved(error.message, error.exitCode, { cause: error });
      throw unwritableConfig(this.path, error);
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}

/** The profiles object; anything else under its key is a hand edit gone wrong, said rather than ignored. */
function profilesOf(path: string, content: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const profiles = content[PROFILES_KEY];
  if (profiles === undefined) return {};
  if (!isObject(profiles) || !Object.values(profiles).every(isObject)) {
    throw usageError(
      `The config file ${escapeText(path)} has a "${PROFILES_KEY}" that is not an object of profiles ({"shop": {"appid": "wx..."}}). Fix it by hand.`,
    );
  }
  return profiles as Record<string, Record<string, unknown>>;
}

function profileOf(path: string, content: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  return profilesOf(path, content)[name];
}

function withProfile(
  path: string,
  content: Record<string, unknown>,
  name: string,
  section: Record<string, unknown>,
): Record<string, unknown> {
  return { ...content, [PROFILES_KEY]: { ...profilesOf(path, content), [name]: section } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Read and written whole: an AppID is a key of its own. */
function tokenCacheOf(content: Record<string, unknown>): Record<string, unknown> {
  const cache = content[TOKEN_CACHE_KEY];
  return isObject(cache) ? cache : {};
}

/** The file's content; none is an empty store. */
async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw unreadableConfig(path, error);
  }
  try {
    return parseConfigText(text);
  } catch (error) {
    throw brokenConfig(path, error);
  }
}

async function lockConfig(path: string): Promise<FileLock> {
  try {
    // The folder first: a first `config set` makes it, private to the user.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return await FileLock.takeWaiting(
      `${path}.lock`,
      (owner) =>
        `The config file ${escapeText(path)} was not changed: another process (${lockHolder(owner)}) keeps it locked (${escapeText(path)}.lock). If no wx-followers runs, remove that lock and try again.`,
      CONFIG_LOCK_WAIT_MS,
    );
  } catch (error) {
    // The folder or the lock could not be made: the folder cannot be written.
    if (!(error instanceof WxError)) throw unwritableConfig(path, error);
    if (error.cause !== undefined) throw unwritableConfig(path, error.cause);
    // Held by a live process all along.
    throw new ConfigNotSaved(error.message, error.exitCode);
  }
}

async function writeConfigFile(path: string, content: Record<string, unknown>): Promise<void> {
  // Mode 0600 from the start: the temp file holds the secrets too.
  await replaceFileAtomically(path, `${JSON.stringify(content, null, '\t')}\n`, 0o600);
}

/** The config file; `config path` prints it without reading the file. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  return join(configDirectory(env), 'config.json');
}

/** Thrown for a file that is JSON but not an object (`[1, 2]`): no key could be read from it or kept in it. */
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
function storedString(path: string, key: string, value: unknown, profile: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw notAString(path, key, value, profile);
  return value.trim() !== '' ? value.trim() : undefined;
}

/** Never the value: under a secret's key it may be the secret, unquoted. */
function notAString(path: string, key: string, value: unknown, profile: string | undefined): WxError {
  const where = profile === undefined ? '' : ` of profile ${profile}`;
  const command = profile === undefined ? 'config set' : `config --profile ${profile} set`;
  return usageError(
    `The config file ${escapeText(path)} has a value for the key ${key}${where} that is not a string (${jsonType(value)}). ` +
      `Quote it in the file, or set it again with \`wx-followers ${command} ${key} ...\`.`,
  );
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A secret as get and list show it: that it is set, and nothing of it, not even its length. */
export function mask(_value: string): string {
  return '********';
}

/**
 * The store's directory: WX_FOLLOWERS_CONFIG_DIR, else the platform's config directory (the one
 * conf and env-paths chose, where earlier versions kept it). Built here from an absolute home only: an empty or relative HOME (cron,
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

/** The file is there and cannot be read: a permission, not its content; it is left as it is. */
function unreadableConfig(path: string, error: unknown): WxError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  return new WxError(
    `The config file ${escapeText(path)} cannot be read (${code}). Make it readable by this user (ls -l '${escapeText(path)}'), or point WX_FOLLOWERS_CONFIG_DIR at a folder of your own.`,
    ExitCode.Usage,
    { cause: error },
  );
}

/** Never the content: a hand-edited file may hold a secret in the very place that broke it. */
function brokenConfig(path: string, error: unknown): WxError {
  const why = error instanceof NotAnObject ? 'it is not a JSON object' : 'it is not valid JSON';
  return new WxError(
    `The config file ${escapeText(path)} is broken: ${why}. Fix it by hand (a JSON object such as {"appid": "wx..."}), ` +
      `or move it away to start with an empty one (mv '${escapeText(path)}' '${escapeText(path)}.bad'); then set the values again with \`wx-followers config set\`.`,
    ExitCode.Usage,
    { cause: error },
  );
}

/** The values in it still hold; only a change cannot be stored. */
function unwritableConfig(path: string, error: unknown): ConfigNotSaved {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new ConfigNotSaved(
    `The config file ${escapeText(path)} cannot be written (${code}), so the change is not stored; what it holds is still used. Make its folder ${escapeText(dirname(path))} writable by this user, or point WX_FOLLOWERS_CONFIG_DIR at a folder of your own.`,
    ExitCode.Failure,
    { cause: error },
  );
}
