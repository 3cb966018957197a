/**
 * End to end: `wx-followers sync` against the fake API, its list changed between runs as an
 * account changes from one day to the next, then `wx-followers changes` on the database it wrote.
 */
import { describe, expect, it } from 'vitest';
import { changingList, generatedFollowers } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_TOKEN } from './fake-api/server.js';
import { cleanEnv, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const everyone = Array.from({ length: 400 }, (_, index) => generatedFollowers(400).at(index));

describe('wx-followers sync, then changes', () => {
  it('shows the joins and leaves of the second sync, not the baseline, and says when a later walk is unfinished', async () => {
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100 });
    const dir = await tempDir();
    const env = cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, TZ: 'UTC' });
    const sync = (args: string[] = []) => runCli(['sync', '--base-url', api.url, '--appid', FAKE_APPID, ...args], { env, cwd: dir });
    // Two days back and today: a run near midnight still falls in the period.
    const changes = (args: string[]) => runCli(['changes', '--since', '2d', ...args], { env, cwd: dir });

    expect((await sync()).code).toBe(0);
    const left = [everyone[10], everyone[100]] as string[];
    const joined = everyone.slice(300, 303);
    list.set([...everyone.slice(0, 250).filter((openid) => !left.includes(openid)), ...joined]);
    expect((await sync()).code).toBe(0);

    const days = await changes(['-f', 'ndjson']);
    expect(days.code).toBe(0);
    const records = days.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { joined: number; left: number });
    expect(records).toHaveLength(2);
    expect(records.reduce((sum, day) => ({ joined: sum.joined + day.joined, left: sum.left + day.left }), { joined: 0, left: 0 })).toEqual({
      joined: 3,
      left: 2,
    });
    expect(days.stderr).toMatch(
      /the baseline of .* falls in this period: its 250 followers were recorded then, not counted as joined\.\n$/,
    );

    const listed = await changes(['--list', '-q']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const rows = listed.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(rows.map(([, kind, openid]) => `${kind} ${openid}`).sort()).toEqual(
      [...joined.map((openid) => `joined ${openid}`), ...left.map((openid) => `left ${openid}`)].sort(),
    );
    expect(rows.every(([at]) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(at ?? ''))).toBe(true);

    // A third sync stops after its first page: its join is known, who left is not yet.
    list.set([everyone[399] as string, ...everyone.slice(0, 250)]);
    expect((await sync(['--limit', '100'])).code).toBe(0);
    const unfinished = await changes(['--list']);
    expect(unfinished.stdout.toString()).toContain(`\tjoined\t${everyone[399]}\n`);
    expect(unfinished.stderr).toMatch(
      /the last sync of .* did not complete \(its walk started .*\): who left is known up to .*\. Run `wx-followers sync` to finish the walk\./,
    );
  });
});
