import type { FollowerInfo } from '../openid.js';
import { requireCsvStringify, type CsvStringify, type FormatName, type RecordFormat } from './formats.js';

/** The CSV columns of `--with-info`, in their order. */
export const DETAILS_COLUMNS = [
  'openid',
  'subscribe',
  'subscribe_time',
  'unionid',
  'language',
  'remark',
  'groupid',
  'tagid_list',
  'subscribe_scene',
  'qr_scene',
  'qr_scene_str',
] as const;

/** What a spreadsheet would start a formula with (OWASP, "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** NDJSON: each object as the API gave it, field names, order and values. */
const ndjson: RecordFormat<FollowerInfo> = {
  header: '',
  encode: (rows) => {
    let lines = '';
    for (const row of rows) lines += `${JSON.stringify(row)}\n`;
    return lines;
  },
};

/** A cell's text: absent fields empty, the time in ISO 8601 UTC, tags joined with ';', formulas disarmed. */
function cell(row: FollowerInfo, column: (typeof DETAILS_COLUMNS)[number]): string {
  const value = row[column];
  let text: string;
  if (value === undefined || value === null) text = '';
  else if (column === 'subscribe_time' && typeof value === 'number') text = isoSeconds(value);
  else if (column === 'tagid_list' && Array.isArray(value)) text = value.join(';');
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value);
  return guardFormula(text);
}

/** A leading `'` on a cell a spreadsheet would run as a formula. */
export function guardFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Unix seconds as `2024-05-01T08:30:00Z`; a time out of range is kept as its number. */
export function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  const iso = date.toISOString();
  // Whole seconds: the API's times have no fraction to show.
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** A row's CSV cells, in the columns' order. */
export function detailsCells(row: FollowerInfo): string[] {
  return DETAILS_COLUMNS.map((column) => cell(row, column));
}

/** What csv-stringify (with its defaults, as here) would quote or change in a cell: a comma, a quote, CR or LF. */
const NEEDS_QUOTING = /[,"\r\n]/;

/**
 * The CSV of details. A row whose cells csv-stringify would all leave as they are is joined
 * directly, as it would write them; the rows with a cell to quote go through csv-stringify, a run
 * of consecutive ones at a time (its cost is mostly per call), so that the order is kept and
 * csv-stringify does every quote. The same bytes as csv-stringify writing every row.
 *
 * csv-stringify is loaded when a row first needs it (synchronously, from its CommonJS build, the
 * same code): not before the first call of the run, where it would delay it, and not at all for
 * an account whose details need no quoting.
 */
export function detailsCsv(load: () => CsvStringify): RecordFormat<FollowerInfo> {
  let loaded: CsvStringify['stringify'] | undefined;
  const stringify = (records: string[][]): string => {
    loaded ??= load().stringify;
    return loaded(records);
  };
  const encode = (rows: readonly string[][]): string => {
    let text = '';
    let toQuote: string[][] = [];
    for (const cells of rows) {
      if (cells.some((value) => NEEDS_QUOTING.test(value))) {
        toQuote.push(cells);
        continue;
      }
      if (toQuote.length > 0) {
        text += stringify(toQuote);
        toQuote = [];
      }
      text += `${cells.join(',')}\n`;
    }
    if (toQuote.length > 0) text += stringify(toQuote);
    return text;
  };
  return {
    header: encode([[...DETAILS_COLUMNS]]),
    encode: (rows) => encode(rows.map(detailsCells)),
  };
}

/** The formats `--with-info` writes: text has no room for the details. */
export async function detailsFormat(name: Exclude<FormatName, 'text'>): Promise<RecordFormat<FollowerInfo>> {
  if (name === 'ndjson') return ndjson;
  return detailsCsv(requireCsvStringify);
}
