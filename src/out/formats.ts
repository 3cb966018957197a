import { createRequire } from 'node:module';
import { OPENID_CHARACTERS, type OpenidPiece } from '../openid.js';

export const FORMAT_NAMES = ['text', 'csv', 'ndjson'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** How records become bytes, a whole page at a time: one record at a time is several times slower. */
export interface RecordFormat<Row> {
  /** Written once at the top of an output that starts empty. */
  readonly header: string;
  encode(rows: readonly Row[]): string;
  /** The bytes of encode(piece.openids), for OpenIDs known to need no quoting or escaping. */
  encodePiece?(piece: OpenidPiece): string;
}

const text: RecordFormat<string> = {
  header: '',
  encode: (openids) => (openids.length === 0 ? '' : `${openids.join('\n')}\n`),
  encodePiece: linesOf,
};

function linesOf({ joined }: OpenidPiece): string {
  return joined === '' ? '' : `${joined}\n`;
}

/** What JSON.stringify leaves as it is: no quote, backslash, control or non-ASCII character. */
const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const ndjson: RecordFormat<string> = {
  header: '',
  encode: (openids) => {
    if (openids.length === 0) return '';
    // Real OpenIDs need no escaping: a join is several times faster than a stringify each.
    if (allMatch(openids, JSON_PLAIN)) return `{"openid":"${openids.join('"}\n{"openid":"')}"}\n`;
    let lines = '';
    for (const openid of openids) lines += `{"openid":${JSON.stringify(openid)}}\n`;
    return lines;
  },
  encodePiece: ({ openids }) => (openids.length === 0 ? '' : `{"openid":"${openids.join('"}\n{"openid":"')}"}\n`),
};

export type CsvStringify = typeof import('csv-stringify/sync');

/**
 * csv-stringify, synchronously, from its CommonJS build (the same code): for an encode() that
 * needs it in the middle of a page, only once some value needs quoting.
 */
export function requireCsvStringify(): CsvStringify {
  return createRequire(import.meta.url)('csv-stringify/sync') as CsvStringify;
}

/**
 * A one-column CSV. A slice of real OpenIDs is joined, as text is: csv-stringify would leave
 * each of them as it is. A slice with any other value goes through csv-stringify as a single
 * record with '\n' between its fields: its cost is per record, and this is the same bytes as a
 * record per OpenID (quoted where a field holds a comma, quote, CR or LF). csv-stringify is
 * loaded on the first such slice only, so that an export of real OpenIDs never pays for it.
 */
function csv(load: () => CsvStringify): RecordFormat<string> {
  const options = { delimiter: '\n', record_delimiter: '\n', quoted_match: /[,\r]/ } as const;
  let stringify: CsvStringify['stringify'] | undefined;
  return {
    // What csv-stringify writes for the one-word header.
    header: 'openid\n',
    encode: (openids) => {
      if (openids.length === 0) return '';
      if (allMatch(openids, CSV_PLAIN)) return `${openids.join('\n')}\n`;
      stringify ??= load().stringify;
      return stringify([openids as string[]], options);
    },
    encodePiece: linesOf,
  };
}

/** What csv-stringify writes unquoted and unchanged: an OpenID's letters, digits, '-' and '_', never empty. */
const CSV_PLAIN = new RegExp(`^[${OPENID_CHARACTERS}]+$`);

/** `values.every((value) => pattern.test(value))`, a quarter faster: it runs for every OpenID of a CSV or NDJSON export. */
function allMatch(values: readonly string[], pattern: RegExp): boolean {
  for (const value of values) if (!pattern.test(value)) return false;
  return true;
}

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

/**
 * A CSV of several columns (details, tags, diff changes), a row's cells from `cells`.
 * csv-stringify is loaded only now, as for the OpenID CSV below.
 */
export async function csvTable<Row>(columns: readonly string[], cells: (row: Row) => string[]): Promise<RecordFormat<Row>> {
  const { stringify } = await import('csv-stringify/sync');
  return {
    header: stringify([[...columns]]),
    encode: (rows) => (rows.length === 0 ? '' : stringify(rows.map(cells))),
  };
}

/** csv-stringify is loaded for a CSV that needs it only: text and NDJSON runs do not pay for it at start-up. */
export async function recordFormat(name: FormatName): Promise<RecordFormat<string>> {
  if (name === 'text') return text;
  if (name === 'ndjson') return ndjson;
  return csv(requireCsvStringify);
}
