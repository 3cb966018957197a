import { csvTable, type FormatName, type RecordFormat } from './formats.js';

/** One line of `diff`: an OpenID that came or went between two exports. */
export interface Change {
  change: 'added' | 'removed';
  openid: string;
}

const text: RecordFormat<Change> = {
  header: '',
  encode: (changes) => changes.map(({ change, openid }) => `${change === 'added' ? '+' : '-'}${openid}\n`).join(''),
};

// OpenIDs are checked on reading (OPENID_CHARACTERS): none needs escaping.
const ndjson: RecordFormat<Change> = {
  header: '',
  encode: (changes) => changes.map(({ change, openid }) => `{"change":"${change}","openid":"${openid}"}\n`).join(''),
};

export async function changeFormat(name: FormatName): Promise<RecordFormat<Change>> {
  if (name === 'text') return text;
  if (name === 'ndjson') return ndjson;
  return csvTable(['change', 'openid'], ({ change, openid }: Change) => [change, openid]);
}
