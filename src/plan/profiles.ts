import { escapeText, shown, usageError } from '../errors.js';
import { DEFAULT_PROFILE_KEY, parseProfileName, type ConfigStore } from '../out/config-store.js';

/** The flag that selects one profile; WX_PROFILE stands in for it. */
export interface ProfileFlags {
  profile?: string;
}

/**
 * The section of the config a command reads: --profile, else WX_PROFILE, else the config's
 * default-profile, else the top level (undefined), which is every config made before profiles.
 */
export function selectedProfile(flags: ProfileFlags, env: NodeJS.ProcessEnv, store: ConfigStore): string | undefined {
  const fromFlag = flags.profile?.trim();
  if (fromFlag !== undefined && fromFlag !== '') return existingProfile(store, parseProfileName(fromFlag, '--profile'), '--profile');
  const fromEnv = env['WX_PROFILE']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return existingProfile(store, parseProfileName(fromEnv, 'WX_PROFILE'), 'WX_PROFILE');
  const fromConfig = store.defaultProfile();
  return fromConfig === undefined ? undefined : existingProfile(store, fromConfig, `config key ${DEFAULT_PROFILE_KEY}`);
}

/** The name as given, if the config has it; else exit 2 naming the profiles there are. */
export function existingProfile(store: ConfigStore, name: string, origin: string): string {
  const names = store.profileNames();
  if (names.includes(name)) return name;
  const there =
    names.length === 0
      ? 'It has no profiles: make one with `wx-followers config --profile NAME set appid wx...`.'
      : `Its profiles are: ${names.map((each) => shown(each)).join(', ')}.`;
  throw usageError(`No profile named '${shown(name)}' (${origin}) in ${escapeText(store.path)}. ${there}`);
}

/** The keys that make a profile an account's: a token, or where one comes from. */
const ACCOUNT_KEYS = ['access-token', 'appid', 'secret', 'token-command', 'token-url'] as const;
/** The keys that make a profile a third-party platform's. */
const PLATFORM_KEYS = ['component-appid', 'component-token-command', 'component-token-url'] as const;

/**
 * A third-party platform's profile: its component keys and no account credentials. It has no
 * followers of its own; the accounts that authorized it are exported with --authorized.
 */
export function isPlatformProfile(store: Pick<ConfigStore, 'get'>, profile: string): boolean {
  return (
    PLATFORM_KEYS.some((key) => store.get(key, profile) !== undefined) && ACCOUNT_KEYS.every((key) => store.get(key, profile) === undefined)
  );
}

/** What the placeholders of an -o or --state template stand for, for one account. */
export interface TemplateValues {
  profile: string;
  appid: string | undefined;
  /** YYYY-MM-DD in the account's time zone. */
  date: string;
}

const PLACEHOLDER = /\{([a-z]*)\}/g;
const ACCOUNT_PLACEHOLDERS = ['{profile}', '{appid}'] as const;

/**
 * What to write instead of a template that names no account, when several accounts share it:
 * the placeholder in the file's name, its folder kept (`p/{appid}-x.txt`, not `{appid}-p/x.txt`,
 * a folder that does not exist); for stdout or a device, that each account needs a file.
 */
export function sharedTemplateMessage(origin: string, template: string, placeholders: string, example: string): string {
  const given = `${origin} ${escapeText(template)}`;
  if (/^(\/dev\/|\/proc\/self\/fd\/)/.test(template)) {
    return `${given} would be one output for every account, and several accounts cannot share stdout or a device: give each account a file of its own, with ${placeholders} in its name ('${example}-{date}.txt').`;
  }
  const nameStart = Math.max(template.lastIndexOf('/'), template.lastIndexOf('\\')) + 1;
  const suggested = `${template.slice(0, nameStart)}${example}-${template.slice(nameStart)}`;
  return `${given} would be the same file for every account: put ${placeholders} in the file's name ('${escapeText(suggested)}').`;
}

/**
 * A path with {profile}, {appid} and {date} filled in. Any other {word} is refused rather than
 * kept: a mistyped placeholder would otherwise put every account into one file of that name.
 */
export function expandTemplate(template: string, values: TemplateValues, origin: string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'profile') return values.profile;
    if (name === 'date') return values.date;
    if (name === 'appid') {
      if (values.appid !== undefined) return values.appid;
      throw usageError(
        `${origin} ${escapeText(template)} names {appid}, and profile ${values.profile} has no AppID: set it with \`wx-followers config --profile ${values.profile} set appid wx...\`, or use {profile}.`,
      );
    }
    throw usageError(
      `${origin} ${escapeText(template)}: ${shown(whole)} is not a placeholder; the placeholders are {profile}, {appid} and {date}.`,
    );
  });
}

export function namesAnAccount(template: string): boolean {
  return ACCOUNT_PLACEHOLDERS.some((placeholder) => template.includes(placeholder));
}

/** China Standard Time: the time zone of the API's day (its daily quota starts at midnight in Beijing). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** A time zone `config --profile NAME set time-zone` takes: one that Intl knows. */
export function parseTimeZone(value: string, origin: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    throw usageError(`${origin}: '${shown(value)}' is not a time zone. Give an IANA name such as Asia/Shanghai or Europe/Berlin.`);
  }
}

/** The day `now` falls on in that time zone, as YYYY-MM-DD. */
export function dateIn(timeZone: string, now: Date): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((each) => each.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}
