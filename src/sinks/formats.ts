import { stringify } from 'csv-stringify/sync';

export const FORMAT_NAMES = ['text', 'csv', 'ndjson'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** How OpenIDs become bytes. A whole page is encoded at once: one record at a time is several times slower. */
export interface RecordFormat {
  /** Written once at the top of an output that starts empty. */
  readonly header: string;
  encode(openids: readonly string[]): string;
}

const text: RecordFormat = {
  header: '',
  encode: (openids) => (openids.length === 0 ? '' : `${openids.join('\n')}\n`),
};

const csv: RecordFormat = {
  header: stringify([['openid']]),
  encode: (openids) => stringify(openids.map((openid) => [openid])),
};

const ndjson: RecordFormat = {
  header: '',
  encode: (openids) => openids.map((openid) => `${JSON.stringify({ openid })}\n`).join(''),
};

const FORMATS: Readonly<Record<FormatName, RecordFormat>> = { text, csv, ndjson };

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

export function recordFormat(name: FormatName): RecordFormat {
  return FORMATS[name];
}
