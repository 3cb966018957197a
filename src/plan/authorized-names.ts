import { escapeText, shown, usageError } from '../errors.js';

/** What the placeholders of an -o or --state template stand for, for one account of --authorized. */
export interface AuthorizedTemplateValues {
  appid: string;
  /** The account's name as the platform gave it: undefined until fetched (only a template with {name} fetches it). */
  name: string | undefined;
  /** YYYY-MM-DD in the run's time zone. */
  date: string;
}

const PLACEHOLDER = /\{([a-z]*)\}/g;

export function namesAuthorizedAccount(template: string): boolean {
  return template.includes('{appid}') || template.includes('{name}');
}

export function namesName(template: string): boolean {
  return template.includes('{name}');
}

/**
 * A path with {appid}, {name} and {date} filled in; {name} as a file name may hold it
 * (fileNameOf). Any other {word} is refused, {profile} included: these accounts have none.
 */
export function expandAuthorizedTemplate(template: string, values: AuthorizedTemplateValues, origin: string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'appid') return values.appid;
    if (name === 'date') return values.date;
    if (name === 'name') {
      if (values.name === undefined) throw new Error('{name} was filled in before the name was fetched');
      return fileNameOf(values.name, values.appid);
    }
    if (name === 'profile') {
      throw usageError(
        `${origin} ${escapeText(template)}: the accounts of --authorized have no profile; name their files with {appid} (or {name}, the account's name).`,
      );
    }
    throw usageError(
      `${origin} ${escapeText(template)}: ${shown(whole)} is not a placeholder; with --authorized the placeholders are {appid}, {name} and {date}.`,
    );
  });
}

/** Longer names are cut (at a character): 120 bytes leave room for the rest of a path's 255-byte file name. */
const MAX_NAME_BYTES = 120;

const UNSAFE_IN_FILE_NAMES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it replaces.
  /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/** Names Windows keeps for devices, whatever the extension. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * An account's name (outside text: its owner chose it) as a part of a file name: no folder
 * separator, nothing Windows refuses, no control or invisible character ('_' instead of each), no
 * leading dot or dash (a hidden file, an option to the next tool), no trailing dot or space, at
 * most 120 bytes. A name with nothing left is the AppID.
 */
export function fileNameOf(name: string, appid: string): string {
  let safe = name.normalize('NFC').replace(UNSAFE_IN_FILE_NAMES, '_').replace(/\s+/gu, ' ').trim();
  safe = safe.replace(/^[.-]+/, (lead) => '_'.repeat(lead.length)).replace(/[. ]+$/, '');
  if (WINDOWS_DEVICE.test(safe)) safe = `_${safe}`;
  safe = cutToBytes(safe, MAX_NAME_BYTES).replace(/[. ]+$/, '');
  return safe === '' || /^_+$/.test(safe) ? appid : safe;
}

function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let cut = '';
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    cut += char;
  }
  return cut;
}
