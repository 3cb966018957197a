import { createRequire } from 'node:module';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { FollowerInfo } from '../src/openid.js';
import { DETAILS_COLUMNS, detailsCells, detailsCsv, detailsFormat } from '../src/out/details-formats.js';
import { followerInfo } from './fake-api/followers.js';

/** Cell values that csv-stringify quotes or changes, and some it leaves as they are. */
const awkward = ['has,comma', 'has"quote', 'has\nnewline', 'has\r\nCRLF', 'has\rCR', '"', ','];
const untouched = ['', ' spaced ', 'tab\there', '北京 客户', "it's", 'semi;colon', '=1+1', '-', 'é\u2028'];

/** What csv-stringify writes for the rows, every row through it: the bytes before the fast path. */
const stringified = (rows: readonly FollowerInfo[]): string => (rows.length === 0 ? '' : stringify(rows.map(detailsCells)));

const row = (openid: string, fields: Record<string, unknown> = {}): FollowerInfo => ({ openid, subscribe: 1, ...fields });

describe('--with-info CSV', () => {
  it('joins the rows that need no quoting and gives the others to csv-stringify, the same bytes as csv-stringify for all', async () => {
    const csv = await detailsFormat('csv');
    expect(csv.header).toBe(stringify([[...DETAILS_COLUMNS]]));
    const plain = [row('oA'), row('oB', { remark: 'VIP customer', tagid_list: [2, 101], subscribe_time: 1_700_000_000 }), row('oC')];
    expect(csv.encode(plain)).toBe(stringified(plain));
    expect(csv.encode(plain)).toBe(plain.map((each) => `${detailsCells(each).join(',')}\n`).join(''));
    expect(csv.encode([])).toBe('');
    for (const value of [...awkward, ...untouched]) {
      for (const column of ['remark', 'qr_scene_str', 'unionid', 'openid'] as const) {
        const odd = row('oOdd', { [column]: value });
        // Alone, first, last, between plain rows, and in a run of rows that need quoting.
        for (const rows of [[odd], [odd, ...plain], [...plain, odd], [plain[0], odd, plain[1], odd, odd, plain[2]]]) {
          expect(csv.encode(rows as FollowerInfo[])).toBe(stringified(rows as FollowerInfo[]));
        }
      }
    }
  });

  it("is the same bytes as csv-stringify for the fake API's details, remarks with commas, quotes, line breaks and formulas included", async () => {
    const csv = await detailsFormat('csv');
    const rows = Array.from({ length: 500 }, (_, index) => followerInfo(`oWx-${index}`, index) as FollowerInfo);
    const text = csv.encode(rows);
    expect(text).toBe(stringified(rows));
    // Both paths were taken.
    expect(text).toContain('"VIP, wholesale"');
    expect(rows.some((each) => !detailsCells(each).some((cell) => /[,"\r\n]/.test(cell)))).toBe(true);
  });

  it('loads csv-stringify only when a row first needs quoting, and once', () => {
    let loads = 0;
    const csv = detailsCsv(() => {
      loads += 1;
      return createRequire(import.meta.url)('csv-stringify/sync') as typeof import('csv-stringify/sync');
    });
    expect(csv.header).toBe(stringify([[...DETAILS_COLUMNS]]));
    const plain = [row('oA'), row('oB', { remark: 'VIP' })];
    expect(csv.encode(plain)).toBe(stringified(plain));
    expect(loads).toBe(0);
    const quoted = [row('oC', { remark: 'a, b' }), row('oD', { remark: 'say "hi"' })];
    expect(csv.encode(quoted)).toBe(stringified(quoted));
    expect(csv.encode([...quoted, ...plain])).toBe(stringified([...quoted, ...plain]));
    expect(loads).toBe(1);
  });
});
