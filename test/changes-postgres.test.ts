/**
 * `wx-followers changes` on a real PostgreSQL server this file starts (test/helpers/postgres.ts):
 * the same fixture as test/changes.test.ts, the same bytes out, through the PostgreSQL engine.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/out/db/open.js';
import { cleanEnv, runCli, tempDir } from './helpers/cli.js';
import { SHOP, WEEK_TABLE, writeHistory, writeSchema } from './helpers/follower-db.js';
import { usePostgres } from './helpers/postgres.js';
import { PG_PASSWORD } from './helpers/postgres-server.js';

const server = usePostgres();

describe('wx-followers changes (a real PostgreSQL server)', () => {
  it('counts a day at a time in the offset asked for, lists the changes, and never shows the password', async () => {
    const url = server().url(await server().createDatabase());
    const db = await openDatabase(url, { readOnly: false, env: {} });
    await writeSchema(db);
    await writeHistory(db);
    const changes = async (args: string[], zone = 'UTC') =>
      runCli(['changes', '--db', url, ...args], { env: cleanEnv(await tempDir(), { TZ: zone }) });

    const week = await changes(['--appid', SHOP, '--from', '2024-05-01', '--to', '2024-05-07', '-q']);
    expect(week).toMatchObject({ code: 0, stderr: '' });
    expect(week.stdout.toString()).toBe(WEEK_TABLE);
    // Past midnight UTC is the morning in Beijing: the day is the offset's, in PostgreSQL's arithmetic too.
    const beijing = await changes(['--appid', SHOP, '--from', '2024-05-04', '--to', '2024-05-05', '-f', 'csv', '-q'], 'Asia/Shanghai');
    expect(beijing.stdout.toString()).toBe('date,joined,left,net\n2024-05-04,0,0,0\n2024-05-05,2,1,1\n');
    const list = await changes(['--appid', SHOP, '--list', '-f', 'ndjson', '--from', '2024-05-05', '--to', '2024-05-06', '--utc']);
    expect(list.stdout.toString()).toBe(
      [
        '{"at":"2024-05-05T00:10:00Z","kind":"joined","openid":"o6"}',
        '{"at":"2024-05-05T00:20:00Z","kind":"left","openid":"o2"}',
        '{"at":"2024-05-06T10:01:00Z","kind":"joined","openid":"o7"}',
        '',
      ].join('\n'),
    );
    expect(list.stderr).toMatch(/the last sync of wxaaaaaaaaaaaaaaaa did not complete/);

    const several = await changes([]);
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(
      /postgres:\/\/wx_admin:\*\*\*@127\.0\.0\.1:\d+\/\S+ holds 2 accounts: wxaaaaaaaaaaaaaaaa, wxbbbbbbbbbbbbbbbb/,
    );
    for (const result of [week, beijing, list, several]) {
      expect(result.stderr).not.toContain(PG_PASSWORD);
      expect(result.stderr).not.toContain(encodeURIComponent(PG_PASSWORD));
    }
  });
});
