/**
 * The follower store's scenarios (test/follower-store.test.ts runs them on SQLite) on a real
 * PostgreSQL server this file starts: the same SQL, through the PostgreSQL engine.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../src/out/db/database.js';
import { FollowerStore, type SyncRun } from '../src/out/db/follower-store.js';
import { migrate, schemaVersionOf } from '../src/out/db/migrate.js';
import { openDatabase } from '../src/out/db/open.js';
import { usePostgres } from './helpers/postgres.js';

const server = usePostgres();

async function freshDatabase(): Promise<{ db: Database; url: string }> {
  const url = server().url(await server().createDatabase());
  const db = await openDatabase(url, { readOnly: false, env: {} });
  await migrate(db);
  return { db, url };
}

async function walk(store: FollowerStore, pages: string[][], now: number): Promise<SyncRun> {
  const run = await store.beginRun({ restart: false, now });
  for (const [index, openids] of pages.entries()) {
    await store.savePage(run, { openids, cursor: openids.at(-1) ?? `c${index}`, total: pages.flat().length }, now);
  }
  await store.finishWalk(run, now);
  return run;
}

describe('the follower store (a real PostgreSQL server)', () => {
  it('records a baseline without changes, then joins and leaves, a return as a new join; another account apart', async () => {
    const { db } = await freshDatabase();
    expect(db.engine).toBe('postgres');
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
    const second = await walk(store, [['A', 'D']], 2000);
    const third = await walk(store, [['A', 'B', 'D']], 3000);
    const news = new FollowerStore(db, 'wxbbbbbbbbbbbbbbbb');
    await walk(news, [['A', 'X']], 1500);
    expect(await db.query('SELECT run_id, openid, kind, at FROM wx_changes ORDER BY at, kind, openid')).toEqual([
      { run_id: second.id, openid: 'D', kind: 'joined', at: 2000 },
      { run_id: second.id, openid: 'B', kind: 'left', at: 2000 },
      { run_id: second.id, openid: 'C', kind: 'left', at: 2000 },
      { run_id: third.id, openid: 'B', kind: 'joined', at: 3000 },
    ]);
    // last_seen from the view: B back at 3000; C gone at 2000, last seen by the walk of 1000.
    expect(
      await db.query(
        "SELECT openid, first_seen, joined_at, last_seen, left_at FROM wx_followers_seen WHERE appid = 'wxaaaaaaaaaaaaaaaa' AND openid IN ('B', 'C') ORDER BY openid",
      ),
    ).toEqual([
      { openid: 'B', first_seen: 1000, joined_at: 3000, last_seen: 3000, left_at: null },
      { openid: 'C', first_seen: 1000, joined_at: 1000, last_seen: 1000, left_at: 2000 },
    ]);
    expect(await db.query('SELECT appid, complete, followers, joined, left_count, cursor, ended_at FROM wx_runs ORDER BY id')).toEqual([
      { appid: 'wxaaaaaaaaaaaaaaaa', complete: 1, followers: 4, joined: 0, left_count: 0, cursor: null, ended_at: 1000 },
      { appid: 'wxaaaaaaaaaaaaaaaa', complete: 1, followers: 2, joined: 1, left_count: 2, cursor: null, ended_at: 2000 },
      { appid: 'wxaaaaaaaaaaaaaaaa', complete: 1, followers: 3, joined: 1, left_count: 0, cursor: null, ended_at: 3000 },
      { appid: 'wxbbbbbbbbbbbbbbbb', complete: 1, followers: 2, joined: 0, left_count: 0, cursor: null, ended_at: 1500 },
    ]);
    await db.close();
  });

  it('continues an unfinished walk from its cursor, and marks who left only at its end', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    await walk(store, [['A', 'B', 'C']], 1000);
    const stopped = await store.beginRun({ restart: false, now: 2000 });
    await store.savePage(stopped, { openids: ['A'], cursor: 'A', total: 2 }, 2000);
    await store.endRun(stopped, 'interrupted', 2000);
    expect(await db.query('SELECT COUNT(*) AS n FROM wx_followers WHERE left_at IS NOT NULL')).toEqual([{ n: 0 }]);
    const died = await store.beginRun({ restart: false, now: 3000 });
    expect(died).toMatchObject({ walkId: stopped.id, cursor: 'A', continued: true, baseline: false });
    await store.savePage(died, { openids: ['C'], cursor: 'C', total: 2 }, 3000);
    expect(await store.finishWalk(died, 3000)).toEqual({ left: 1 });
    expect(await db.query('SELECT openid, kind, run_id FROM wx_changes')).toEqual([{ openid: 'B', kind: 'left', run_id: died.id }]);
    await db.close();
  });

  it('writes a page of 25,000 in chunks, and stores details', async () => {
    const { db } = await freshDatabase();
    const store = new FollowerStore(db, 'wxaaaaaaaaaaaaaaaa');
    const openids = Array.from({ length: 25_000 }, (_, index) => `o${index}`);
    await walk(store, [openids], 1000);
    const run = await store.beginRun({ restart: false, now: 2000 });
    expect(await store.savePage(run, { openids: [...openids, 'new1'], cursor: 'new1', total: 3 }, 2000)).toEqual({
      followers: 25_001,
      joined: 1,
    });
    await store.saveDetails(
      [{ openid: 'o1', subscribe: 1, subscribe_time: 123, tagid_list: [2, 101], remark: 'say "hi"', qr_scene: 0 }],
      900,
    );
    expect(await store.detailsWanted({ after: 'o0', olderThan: 950, limit: 2 })).toEqual(['o1', 'o10']);
    expect(
      await db.query("SELECT subscribe_time, tagid_list, remark, qr_scene, unionid, details_at FROM wx_followers WHERE openid = 'o1'"),
    ).toEqual([{ subscribe_time: 123, tagid_list: '[2,101]', remark: 'say "hi"', qr_scene: 0, unionid: null, details_at: 900 }]);
    await db.close();
  });

  it('is created once by two at once; a newer schema is refused (exit 2) and left as it was; read-only opens write nothing', async () => {
    const url = server().url(await server().createDatabase());
    const [one, two] = [await openDatabase(url, { readOnly: false }), await openDatabase(url, { readOnly: false })];
    await Promise.all([migrate(one), migrate(two)]);
    expect(await one.query('SELECT version FROM wx_schema')).toEqual([{ version: 1 }]);
    await one.query('UPDATE wx_schema SET version = 7');
    await expect(migrate(two)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/version 7, newer than version 1/) });
    expect(await schemaVersionOf(two)).toBe(7);
    await Promise.all([one.close(), two.close()]);
    const reader = await openDatabase(url, { readOnly: true });
    await expect(reader.query('UPDATE wx_schema SET version = 1')).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/read-only transaction \(SQLSTATE 25006\)/),
    });
    expect(await schemaVersionOf(reader)).toBe(7);
    await reader.close();
  });
});
