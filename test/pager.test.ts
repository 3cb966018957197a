import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/api/client.js';
import { WxError } from '../src/errors.js';
import { parseListPage, type FollowerPage, type ListSource } from '../src/api/endpoints/lists.js';
import { paginate } from '../src/run/pages.js';

/** A list source over canned answers: the pager is tested alone, without HTTP. */
function canned(answers: JsonObject[]): ListSource & { cursors: (string | undefined)[] } {
  const cursors: (string | undefined)[] = [];
  return {
    description: 'test list',
    cursors,
    fetchPage: async (cursor) => {
      cursors.push(cursor);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('the pager asked for a page past the end');
      // As the client does on every attempt.
      return parseListPage(answer, 'test list');
    },
  };
}

/** A page of 10,000 OpenIDs with `odd` at index `at`. */
function bigPage(at: number, odd: unknown): JsonObject {
  const openids: unknown[] = Array.from({ length: 10_000 }, (_, index) => `oPage_${String(index).padStart(22, '0')}`);
  openids[at] = odd;
  return { total: 20_000, count: 10_000, data: { openid: openids }, next_openid: 'oPage_last' };
}

async function collect(source: ListSource, startAfter?: string): Promise<string[][]> {
  const pages: string[][] = [];
  for await (const page of paginate(source, startAfter)) pages.push(page.openids);
  return pages;
}

describe('paginate', () => {
  it('feeds each next_openid back and ends on the answer without data', async () => {
    const source = canned([
      { total: 3, count: 2, data: { openid: ['a', 'b'] }, next_openid: 'b' },
      { total: 3, count: 1, data: { openid: ['c'] }, next_openid: 'c' },
      { total: 3, count: 0, next_openid: '' },
    ]);
    expect(await collect(source)).toEqual([['a', 'b'], ['c']]);
    expect(source.cursors).toEqual([undefined, 'b', 'c']);
  });

  it('goes on after the last OpenID of a page with data and an empty next_openid, and ends on the answer without data', async () => {
    const source = canned([
      { total: 3, count: 2, data: { openid: ['a', 'b'] }, next_openid: '' },
      { total: 3, count: 1, data: { openid: ['c'] }, next_openid: 'c' },
      { total: 3, count: 0, next_openid: '' },
    ]);
    expect(await collect(source)).toEqual([['a', 'b'], ['c']]);
    expect(source.cursors).toEqual([undefined, 'b', 'c']);
  });

  it('still catches a cycle through a page whose next_openid is empty', async () => {
    const source = canned([
      { total: 9, count: 1, data: { openid: ['a'] }, next_openid: 'a' },
      { total: 9, count: 1, data: { openid: ['a'] }, next_openid: '' },
    ]);
    await expect(collect(source)).rejects.toThrow(
      /page of the test list after a ended with a \(its next_openid empty\), a cursor already seen/,
    );
  });

  it('ends on a count of 0 even when data is present', async () => {
    const source = canned([{ total: 0, count: 0, data: { openid: [] }, next_openid: 'x' }]);
    expect(await collect(source)).toEqual([]);
  });

  it('does not stop when count reaches total: only the API says when the list ends', async () => {
    const source = canned([
      { total: 1, count: 1, data: { openid: ['a'] }, next_openid: 'a' },
      { total: 2, count: 1, data: { openid: ['b'] }, next_openid: 'b' },
      { total: 2, count: 0, next_openid: '' },
    ]);
    expect(await collect(source)).toEqual([['a'], ['b']]);
  });

  it('drops empty strings, whether count counts them (3) or not (2, the published example)', async () => {
    for (const count of [2, 3]) {
      const source = canned([
        { total: 2, count, data: { openid: ['', 'a', 'b'] }, next_openid: 'b' },
        { total: 2, count: 0, next_openid: '' },
      ]);
      expect(await collect(source)).toEqual([['a', 'b']]);
    }
  });

  it('takes a page of 10,000 OpenIDs of every allowed character and length, and its pieces hold them in order', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const openids = Array.from({ length: 10_000 }, (_, index) =>
      alphabet
        .slice(index % 64)
        .repeat(2)
        .slice(0, 1 + (index % 64)),
    );
    const pages: FollowerPage[] = [];
    for await (const page of paginate(
      canned([
        { total: 10_000, count: 10_000, data: { openid: openids }, next_openid: 'x' },
        { total: 10_000, count: 0, next_openid: '' },
      ]),
    )) {
      pages.push(page);
    }
    expect(pages.map((page) => page.openids)).toEqual([openids]);
    expect(pages[0]?.pieces.map((piece) => piece.joined).join('\n')).toBe(openids.join('\n'));
    expect(pages[0]?.pieces.flatMap((piece) => piece.openids)).toEqual(openids);
  });

  it('starts after the resume cursor', async () => {
    const source = canned([
      { total: 2, count: 1, data: { openid: ['b'] }, next_openid: 'b' },
      { total: 2, count: 0, next_openid: '' },
    ]);
    expect(await collect(source, 'a')).toEqual([['b']]);
    expect(source.cursors).toEqual(['a', 'b']);
  });

  it('refuses the cursor it sent handed back with data', async () => {
    const source = canned([
      { total: 4, count: 2, data: { openid: ['a', 'b'] }, next_openid: 'b' },
      { total: 4, count: 2, data: { openid: ['c', 'd'] }, next_openid: 'b' },
    ]);
    await expect(collect(source)).rejects.toThrow(
      /page of the test list after b gave b as its next_openid, a cursor already seen in this run: its pages go round in a circle/,
    );
  });

  it('refuses a cursor seen earlier in the run (A -> B -> A), naming it, before yielding that page', async () => {
    const source = canned([
      { total: 9, count: 2, data: { openid: ['a1', 'a'] }, next_openid: 'a' },
      { total: 9, count: 2, data: { openid: ['b1', 'b'] }, next_openid: 'b' },
      { total: 9, count: 2, data: { openid: ['c1', 'c'] }, next_openid: 'a' },
    ]);
    const pages: string[][] = [];
    const error = await (async () => {
      for await (const page of paginate(source)) pages.push(page.openids);
    })().catch((caught: unknown) => caught);
    expect(pages).toEqual([
      ['a1', 'a'],
      ['b1', 'b'],
    ]);
    expect((error as WxError).exitCode).toBe(5);
    expect((error as WxError).message).toMatch(
      /The API's page of the test list after b gave a as its next_openid, a cursor already seen in this run/,
    );
  });

  it('counts the cursor it started after as seen', async () => {
    const source = canned([{ total: 9, count: 1, data: { openid: ['b'] }, next_openid: 'a' }]);
    await expect(collect(source, 'a')).rejects.toThrow(/page of the test list after a gave a as its next_openid/);
  });

  it('refuses a page with data and no next_openid through the page parse, with a retry hint, never as the end', async () => {
    const error = await collect(canned([{ total: 3, count: 1, data: { openid: ['a'] } }])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WxError);
    expect((error as WxError).retry).toEqual({ kind: 'backoff' });
    expect((error as WxError).message).toMatch(/a page of OpenIDs without `next_openid`/);
  });

  it.each([
    [{ total: '3', count: 1, data: { openid: ['a'] } }, '`total` is not a whole number'],
    [{ total: 'nine', count: 1, data: { openid: ['a'] }, next_openid: 'a' }, '`total` is not a whole number'],
    [{ total: -5, count: 1, data: { openid: ['a'] }, next_openid: 'a' }, '`total` is not a whole number'],
    [{ total: 1e308, count: 1, data: { openid: ['a'] }, next_openid: 'a' }, '`total` is not a whole number'],
    [{ total: 3, count: '3', data: { openid: ['a', 'b', 'c'] }, next_openid: 'c' }, '`count` is not a whole number'],
    [{ total: 3, count: 1, data: { openid: 'a' }, next_openid: 'a' }, '`data.openid` is not a list'],
    [{ total: 3, count: 1, data: { openid: [1] }, next_openid: 'a' }, 'holds something other than strings'],
    [{ total: 3, count: 1, data: { openid: ['a'] }, next_openid: 5 }, '`next_openid` is not a string'],
    [{ total: 3, count: 1, data: { openid: ['a'] }, next_openid: null }, '`next_openid` is not a string'],
    // Contradictions: only no OpenIDs and a count of 0 end a list.
    [{ total: 3, count: 0, data: { openid: ['a', 'b'] }, next_openid: 'b' }, '`count` is 0, but `data.openid` holds 2 OpenIDs'],
    [{ total: 3, count: 2, next_openid: '' }, '`count` is 2, but there is no `data`'],
    [{ total: 3, count: 1, data: { openid: [''] }, next_openid: '' }, '`count` is 1, but `data.openid` holds no OpenID'],
    [{}, 'it has no `count`'],
    [{ errcode: 0, errmsg: 'ok' }, 'it has no `count`'],
    [{ total: 3, data: { openid: ['a'] }, next_openid: 'a' }, 'it has no `count`'],
    [{ total: 9, count: 5, data: { openid: ['', 'a', 'b'] }, next_openid: 'b' }, '`count` is 5, but `data.openid` holds 2 OpenIDs'],
    // Not the shape of an OpenID: shown escaped.
    [{ total: 3, count: 1, data: { openid: ['a\u001b[2Jb'] }, next_openid: 'a' }, "holds 'a\\u{1b}[2Jb', which is not an OpenID"],
    [{ total: 3, count: 1, data: { openid: ['a b'] }, next_openid: 'a' }, "holds 'a b', which is not an OpenID"],
    [{ total: 3, count: 1, data: { openid: ['x'.repeat(65)] }, next_openid: 'a' }, 'which is not an OpenID'],
    [{ total: 3, count: 1, data: { openid: ['a'] }, next_openid: 'a\nb' }, "`next_openid` is 'a\\u{a}b', which is not an OpenID"],
    [{ total: 3, count: 0, next_openid: '../x' }, "`next_openid` is '../x', which is not an OpenID"],
    // A line break inside an OpenID would pass for two lines of an export.
    [{ total: 3, count: 1, data: { openid: ['a\nb'] }, next_openid: 'a' }, "holds 'a\\u{a}b', which is not an OpenID"],
    [{ total: 9, count: 2, data: { openid: ['a', 'b\n'] }, next_openid: 'a' }, "holds 'b\\u{a}', which is not an OpenID"],
  ])('refuses the malformed answer %j through the page parse, with a retry hint: %s', async (answer, what) => {
    const error = await collect(canned([answer])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WxError);
    expect((error as WxError).exitCode).toBe(5);
    expect((error as WxError).retry).toEqual({ kind: 'backoff' });
    expect((error as WxError).message).toMatch(/ is malformed: /);
    expect((error as WxError).message).toContain(what);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may reach a message.
    expect((error as WxError).message).not.toMatch(/[\u0000-\u001f]/);
  });

  // Deep in a page of 10,000, where OpenIDs are checked a piece of the page at a time.
  it.each(
    [0, 2_047, 2_048, 5_000, 9_999].flatMap((at): [number, unknown, string][] => [
      [at, 'o-bad,openid', "holds 'o-bad,openid', which is not an OpenID"],
      [at, 'o-line\nbreak', "holds 'o-line\\u{a}break', which is not an OpenID"],
      [at, `o${'x'.repeat(64)}`, `holds 'o${'x'.repeat(64)}', which is not an OpenID`],
      [at, 42, 'holds something other than strings'],
    ]),
  )('refuses a page of 10,000 OpenIDs with one odd value at %i (%j): %s', async (at, odd, what) => {
    const error = await collect(canned([bigPage(at, odd)])).catch((caught: unknown) => caught);
    expect((error as WxError).retry).toEqual({ kind: 'backoff' });
    expect((error as WxError).message).toContain(what);
  });
});
