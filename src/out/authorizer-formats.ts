import type { AuthorizerRow } from '../openid.js';
import { guardFormula, isoSeconds } from './details-formats.js';
import { csvTable, type FormatName, type RecordFormat } from './formats.js';
import { oneLine } from './tag-formats.js';

/** The columns of `accounts`, in their order: the info ones are empty without --with-info. */
const AUTHORIZER_COLUMNS = ['appid', 'auth_time', 'user_management', 'name', 'service_type', 'verify_type'] as const;

/** service_type_info.id in words: 0 and 1 are subscription accounts (1 upgraded from an old account). */
const SERVICE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'subscription'],
  [1, 'subscription'],
  [2, 'service'],
]);

/** verify_type_info.id in words: who verified the account, if anyone. */
const VERIFY_TYPES: ReadonlyMap<number, string> = new Map([
  [-1, 'unverified'],
  [0, 'wechat'],
  [1, 'sina-weibo'],
  [2, 'tencent-weibo'],
  [3, 'qualification'],
  [4, 'qualification+sina-weibo'],
  [5, 'qualification+tencent-weibo'],
]);

/** A type id in words; an id the table does not know as its number, so that nothing is lost. */
function typeWord(table: ReadonlyMap<number, string>, id: number | undefined): string {
  if (id === undefined) return '';
  return table.get(id) ?? String(id);
}

/** Whether the account granted user management: yes, no, withdrawn, or not fetched (without --with-info). */
function userManagement(row: AuthorizerRow): string {
  if (row.details === undefined) return 'not fetched';
  if (row.details === 'withdrawn') return 'withdrawn';
  return row.details.userManagement ? 'yes' : 'no';
}

/** Every column's value, as text: the name as the API gave it. */
function values(row: AuthorizerRow): Record<(typeof AUTHORIZER_COLUMNS)[number], string> {
  const details = typeof row.details === 'object' ? row.details : undefined;
  return {
    appid: row.appid,
    auth_time: isoSeconds(row.authTime),
    user_management: userManagement(row),
    name: details?.name ?? '',
    service_type: typeWord(SERVICE_TYPES, details?.serviceType),
    verify_type: typeWord(VERIFY_TYPES, details?.verifyType),
  };
}

/** Tab-separated, without a header, as `tags` writes: AppID, time and scope, then the info columns when fetched. */
const text: RecordFormat<AuthorizerRow> = {
  header: '',
  encode: (rows) =>
    rows
      .map((row) => {
        const cells = values(row);
        const fetched = typeof row.details === 'object';
        const columns = fetched ? AUTHORIZER_COLUMNS : AUTHORIZER_COLUMNS.slice(0, 3);
        return `${columns.map((column) => oneLine(cells[column])).join('\t')}\n`;
      })
      .join(''),
};

/** One object a line; the info fields only when fetched. */
const ndjson: RecordFormat<AuthorizerRow> = {
  header: '',
  encode: (rows) =>
    rows
      .map((row) => {
        const { appid, auth_time, user_management, name, service_type, verify_type } = values(row);
        const info = typeof row.details === 'object' ? { name, service_type, verify_type } : {};
        return `${JSON.stringify({ appid, auth_time, user_management, ...info })}\n`;
      })
      .join(''),
};

/** `accounts --format`. */
export async function authorizerFormat(name: FormatName): Promise<RecordFormat<AuthorizerRow>> {
  if (name === 'text') return text;
  if (name === 'ndjson') return ndjson;
  return csvTable(AUTHORIZER_COLUMNS, (row: AuthorizerRow) => {
    const cells = values(row);
    return AUTHORIZER_COLUMNS.map((column) => guardFormula(cells[column]));
  });
}
