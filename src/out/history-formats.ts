/**
 * What `changes` writes: joined and left per day (every day of the period, so that a chart or a
 * spreadsheet sees the days without changes too), or with --list each change itself.
 */
import { guardFormula } from './details-formats.js';
import { csvTable, type FormatName, type RecordFormat } from './formats.js';
import { oneLine } from './tag-formats.js';

/** One day of the period. `date` is YYYY-MM-DD. */
export interface DayRow {
  date: string;
  joined: number;
  left: number;
}

/** One change of --list. `at` is ISO 8601 with the offset the days are read in. */
export interface ListedChange {
  at: string;
  kind: string;
  openid: string;
}

function signed(count: number): string {
  return count > 0 ? `+${count}` : String(count);
}

/**
 * Text: a table with a header and a total line, columns aligned (widths from the totals, the
 * largest numbers), for people and for `awk`.
 */
export function dayTable(days: readonly DayRow[]): string {
  const total = days.reduce((sum, day) => ({ joined: sum.joined + day.joined, left: sum.left + day.left }), { joined: 0, left: 0 });
  const rows = [
    ['date', 'joined', 'left', 'net'],
    ...days.map((day) => [day.date, String(day.joined), String(day.left), signed(day.joined - day.left)]),
    ['total', String(total.joined), String(total.left), signed(total.joined - total.left)],
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return rows.map((row) => `${line(row).trimEnd()}\n`).join('');
}

const ndjsonDays: RecordFormat<DayRow> = {
  header: '',
  encode: (days) =>
    days.map((day) => `{"date":"${day.date}","joined":${day.joined},"left":${day.left},"net":${day.joined - day.left}}\n`).join(''),
};

/** CSV and NDJSON: one record a day, and nothing else, so that every record has the same shape. */
export async function dayFormat(name: Exclude<FormatName, 'text'>): Promise<RecordFormat<DayRow>> {
  if (name === 'ndjson') return ndjsonDays;
  return csvTable(['date', 'joined', 'left', 'net'], (day: DayRow) => [
    day.date,
    String(day.joined),
    String(day.left),
    String(day.joined - day.left),
  ]);
}

/** The database's OpenIDs were checked when synced; one edited by hand is still written safely. */
const textList: RecordFormat<ListedChange> = {
  header: '',
  encode: (changes) => changes.map((change) => `${change.at}\t${oneLine(change.kind)}\t${oneLine(change.openid)}\n`).join(''),
};

const ndjsonList: RecordFormat<ListedChange> = {
  header: '',
  encode: (changes) =>
    changes
      .map((change) => `{"at":"${change.at}","kind":${JSON.stringify(change.kind)},"openid":${JSON.stringify(change.openid)}}\n`)
      .join(''),
};

/** --list: at, kind, openid, in every format (text tab-separated, without a header). */
export async function listFormat(name: FormatName): Promise<RecordFormat<ListedChange>> {
  if (name === 'text') return textList;
  if (name === 'ndjson') return ndjsonList;
  return csvTable(['at', 'kind', 'openid'], (change: ListedChange) => [change.at, guardFormula(change.kind), guardFormula(change.openid)]);
}
