import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../src/out/db/database.js';
import { FollowerStore, type SyncRun } from '../src/out/db/follower-store.js';
import { migrate, schemaVersionOf } from '../src/out/db/migrate.js';
import { openDatabase } from '../src/out/db/open.js';
import { tempDir } from './helpers/cli.js';

async function freshDatabase(): Promise<{ db: Database; path: string }> {
  const path = join(await tempDir(), 'followers.db');
  const db = await openDatabase(path, { readOnly: false });
  await migrate(db);
  return { db, path };
}

/** A whole walk of `pages` (each a list of OpenIDs), run by one run, then finished. */
async function walk(store: FollowerStore, pages: string[][], now: number): Promise<SyncRun> {
  const run = await store.beginRun({ restart: false, now });
  for (const [index, openids] of pages.entries()) {
    await store.savePage(run, { openids, cursor: openids.at(-1) ?? `c${index}`, total: pages.flat().length }, now);
  }
  await store.finishWalk(run, now);
  return run;
}

describe('the follower store (a real SQLite file)', () => {
  it('records a baseline without changes, then joins and leaves of the next walks, a return as a new join', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    const first = await walk(
      store,
      [
        ['A', 'B'],
        ['C', 'A'],
      ],
      1000,
    );
    expect(first.baseline).toBe(true);
    expect(await db.query('SELECT COUNT(*) AS n FROM wx_changes')).toEqual([{ n: 0 }]);
    // Ids in the order the walk met them; last_seen (the view's) the end of the last complete walk.
    expect(await db.query('SELECT id, openid, first_seen, joined_at, last_seen, left_at FROM wx_followers_seen ORDER BY id')).toEqual([
      { id: 1, openid: 'A', first_seen: 1000, joined_at: 1000, last_seen: 1000, left_at: null },
      { id: 2, openid: 'B', first_seen: 1000, joined_at: 1000, last_seen: 1000, left_at: null },
      { id: 3, openid: 'C', first_seen: 1000, joined_at: 1000, last_seen: 1000, left_at: null },
    ]);
    const second = await walk(store, [['A', 'D']], 2000);
    expect(second.baseline).toBe(false);
    expect(second.walkId).toBe(second.id);
    const third = await walk(store, [['A', 'B', 'D']], 3000);
    expect(await db.query('SELECT run_id, openid, kind, at FROM wx_changes ORDER BY at, kind, openid')).toEqual([
      { run_id: second.id, openid: 'D', kind: 'joined', at: 2000 },
      { run_id: second.id, openid: 'B', kind: 'left', at: 2000 },
      { run_id: second.id, openid: 'C', kind: 'left', at: 2000 },
      { run_id: third.id, openid: 'B', kind: 'joined', at: 3000 },
    ]);
    // B: back at 3000. C: left at 2000, last seen by the walk of 1000 (stored when it left).
    expect(
      await db.query(
        "SELECT openid, first_seen, joined_at, last_seen, left_at FROM wx_followers_seen WHERE openid IN ('B', 'C') ORDER BY openid",
      ),
    ).toEqual([
      { openid: 'B', first_seen: 1000, joined_at: 3000, last_seen: 3000, left_at: null },
      { openid: 'C', first_seen: 1000, joined_at: 1000, last_seen: 1000, left_at: 2000 },
    ]);
    expect(await db.query("SELECT openid, last_seen FROM wx_followers WHERE openid IN ('A', 'C') ORDER BY openid")).toEqual([
      { openid: 'A', last_seen: null },
      { openid: 'C', last_seen: 1000 },
    ]);
    expect(await db.query('SELECT COUNT(*) AS n FROM wx_walk_seen')).toEqual([{ n: 0 }]);
    expect(await db.query('SELECT complete, followers, joined, left_count, cursor, ended_at FROM wx_runs ORDER BY id')).toEqual([
      { complete: 1, followers: 4, joined: 0, left_count: 0, cursor: null, ended_at: 1000 },
      { complete: 1, followers: 2, joined: 1, left_count: 2, cursor: null, ended_at: 2000 },
      { complete: 1, followers: 3, joined: 1, left_count: 0, cursor: null, ended_at: 3000 },
    ]);
  });

  it('continues an unfinished walk from its cursor, a died run too, and marks who left only at its end', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    await walk(store, [['A', 'B', 'C']], 1000);
    const stopped = await store.beginRun({ restart: false, now: 2000 });
    await store.savePage(stopped, { openids: ['A'], cursor: 'A', total: 2 }, 2000);
    await store.endRun(stopped, 'interrupted', 2000);
    expect(await db.query('SELECT COUNT(*) AS n FROM wx_followers WHERE left_at IS NOT NULL')).toEqual([{ n: 0 }]);
    // Died: no endRun. The next run takes the walk on from its cursor all the same.
    const died = await store.beginRun({ restart: false, now: 3000 });
    expect(died).toMatchObject({ walkId: stopped.id, cursor: 'A', continued: true, baseline: false });
    const last = await store.beginRun({ restart: false, now: 4000 });
    expect(last).toMatchObject({ walkId: stopped.id, cursor: 'A', continued: true });
    await store.savePage(last, { openids: ['C'], cursor: 'C', total: 2 }, 4000);
    expect(await store.finishWalk(last, 4000)).toEqual({ left: 1 });
    expect(await db.query('SELECT openid, kind, run_id FROM wx_changes')).toEqual([{ openid: 'B', kind: 'left', run_id: last.id }]);
    const restarted = await store.beginRun({ restart: true, now: 5000 });
    expect(restarted).toMatchObject({ walkId: restarted.id, cursor: undefined, continued: false });
  });

  it('keeps two accounts of one database apart', async () => {
    const { db } = await freshDatabase();
    const shop = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    const news = new FollowerStore(db, 'wxbbbbbbbbbbbbbbbb');
    await walk(shop, [['A', 'B']], 1000);
    await walk(news, [['A', 'X']], 1000);
    await walk(shop, [['A']], 2000);
    expect(await db.query('SELECT appid, openid FROM wx_followers WHERE left_at IS NOT NULL')).toEqual([
      { appid: 'wxaaaaaaaaaaaaaaaa', openid: 'B' },
    ]);
    expect((await news.beginRun({ restart: false, now: 3000 })).baseline).toBe(false);
  });

  it('finds the same joins and leaves when the list comes back in another order, repeats an OpenID across pages, or interleaves with another account', async () => {
    const { db } = await freshDatabase();
    const shop = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    const news = new FollowerStore(db, 'wxbbbbbbbbbbbbbbbb');
    const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, index) => `o${from + index}`);
    await walk(shop, [ids(0, 30), ids(30, 60)], 1000);
    await walk(news, [ids(0, 10)], 1000);
    // The shop's joiners get ids after the news account's rows, which are between the shop's.
    await walk(shop, [ids(5, 40), ['n1', ...ids(40, 60), 'n2']], 2000);
    await walk(news, [ids(0, 10), ['x1']], 2000);
    // o0 to o4 left in the second walk. The third: reversed, o45 twice (pages 1 and 2), o0 back, o50 to o59 and n1 gone.
    const reversed = [...ids(5, 50), 'n2'].reverse();
    const third = await walk(shop, [reversed.slice(0, 20), ['o45', ...reversed.slice(20), 'o0']], 3000);
    expect(await db.query('SELECT kind, COUNT(*) AS n FROM wx_changes WHERE run_id = ? GROUP BY kind ORDER BY kind', [third.id])).toEqual([
      { kind: 'joined', n: 1 },
      { kind: 'left', n: 11 },
    ]);
    expect(await db.query("SELECT openid FROM wx_changes WHERE run_id = ? AND kind = 'joined'", [third.id])).toEqual([{ openid: 'o0' }]);
    const following = await db.query(
      "SELECT openid FROM wx_followers WHERE appid = 'wxaaaaaaaaaaaaaaaa' AND left_at IS NULL ORDER BY openid",
    );
    expect(following.map((row) => row['openid']).sort()).toEqual(['o0', ...ids(5, 50), 'n2'].sort());
    expect(await db.query("SELECT COUNT(*) AS n FROM wx_followers WHERE appid = 'wxbbbbbbbbbbbbbbbb' AND left_at IS NULL")).toEqual([
      { n: 11 },
    ]);
  });

  it('asks details of the new and the stale only, and stores them', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    await walk(store, [['A', 'B', 'C']], 1000);
    await store.saveDetails(
      [
        { openid: 'A', subscribe: 1, subscribe_time: 123, tagid_list: [2, 101], remark: 'say "hi"', qr_scene: 0, language: 'en' },
        { openid: 'B', subscribe: 0 },
      ],
      900,
    );
    expect(await store.detailsWanted({ after: undefined, olderThan: 500, limit: 10 })).toEqual(['C']);
    expect(await store.detailsWanted({ after: undefined, olderThan: 950, limit: 2 })).toEqual(['A', 'B']);
    expect(await store.detailsWanted({ after: 'B', olderThan: 950, limit: 2 })).toEqual(['C']);
    expect(
      await db.query(
        "SELECT subscribe_time, tagid_list, remark, qr_scene, language, unionid, details_at FROM wx_followers WHERE openid = 'A'",
      ),
    ).toEqual([
      { subscribe_time: 123, tagid_list: '[2,101]', remark: 'say "hi"', qr_scene: 0, language: 'en', unionid: null, details_at: 900 },
    ]);
  });

  it('writes pages of 10,000 and more, and counts a repeated OpenID once', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    const openids = Array.from({ length: 40_000 }, (_, index) => `o${index}`);
    await walk(store, [openids], 1000);
    const run = await store.beginRun({ restart: false, now: 2000 });
    // A page that repeats OpenIDs (one it expected, one new): each counted and joined once.
    const repeated = [...openids, 'new1', 'o5', 'new2', 'new1'];
    expect(await store.savePage(run, { openids: repeated, cursor: 'new2', total: 3 }, 2000)).toEqual({
      followers: 40_002,
      joined: 2,
    });
  });

  it('refuses a database of a newer schema and leaves it as it was', async () => {
    const { db, path } = await freshDatabase();
    await db.query('UPDATE wx_schema SET version = 7');
    await db.close();
    const before = await readFile(path);
    const copy = `${path}.copy`;
    await copyFile(path, copy);
    const again = await openDatabase(path, { readOnly: false });
    await expect(migrate(again)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/version 7.*version 1/) });
    expect(await schemaVersionOf(again)).toBe(7);
    await again.close();
    expect(await readFile(path)).toEqual(before);
  });
});
