/**
 * `wx-followers sync` into a real PostgreSQL server this file starts, as a user runs it (the CLI
 * as a subprocess, the fake API): the scenarios of sync.test.ts, the lock between two syncs, and
 * the server going away mid-run. The URL carries a password: no output ever shows it.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { changingList, generatedFollowers } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_TOKEN, type FakeAccount, type FakeApi } from './fake-api/server.js';
import { configWith, threeAccounts } from './helpers/accounts.js';
import { BIN, type CliResult, cleanEnv, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';
import { usePostgres } from './helpers/postgres.js';
import { PG_PASSWORD } from './helpers/postgres-server.js';

const fake = useFakes();
const server = usePostgres();

const everyone = Array.from({ length: 400 }, (_, index) => generatedFollowers(400).at(index));

/** The URL as messages show it: postgres://wx_admin:***@127.0.0.1:PORT/NAME. */
const shownUrl = (name: string): string => server().url(name).replace(encodeURIComponent(PG_PASSWORD), '***');
/** The same, as a regular expression's text. */
const shownPattern = (name: string): string => shownUrl(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Neither the password nor its %-encoded form, anywhere the run wrote. */
function expectNoPassword(result: CliResult): void {
  for (const text of [result.stderr, result.stdout.toString('utf8')]) {
    expect(text).not.toContain(PG_PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PG_PASSWORD));
  }
}

async function sync(api: FakeApi, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const dir = await tempDir();
  const result = await runCli(['sync', '--base-url', api.url, '--appid', FAKE_APPID, ...args], {
    env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }),
    cwd: dir,
  });
  expectNoPassword(result);
  return result;
}

function listCalls(api: FakeApi): string[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/get').map((call) => call.query.get('next_openid') ?? 'first');
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('wx-followers sync into PostgreSQL', () => {
  it('records a baseline, then joins and leaves; a walk stopped at --limit goes on (URL in WX_DB, password in PGPASSWORD)', async () => {
    const name = await server().createDatabase();
    const list = changingList(everyone.slice(0, 250));
    const api = await fake({ followers: list, pageSize: 100 });
    const first = await sync(api, ['--db', server().url(name)]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(
      `wx-followers: ${FAKE_APPID} in ${shownUrl(name)}: baseline recorded, 250 followers (the walk is complete); joins and leaves are counted from the next sync.\n`,
    );
    list.set([...everyone.slice(0, 250).filter((_, index) => index !== 10 && index !== 100), ...everyone.slice(300, 303)]);
    const withoutPassword = `postgres://wx_admin@127.0.0.1:${server().port}/${name}`;
    const env = { WX_DB: withoutPassword, PGPASSWORD: PG_PASSWORD };
    const limited = await sync(api, ['--limit', '150'], env);
    expect(limited.code).toBe(0);
    expect(limited.stderr).toContain(`in ${withoutPassword}: stopped at --limit 150, 150 followers recorded this run`);
    const rest = await sync(api, [], env);
    expect(rest.stderr).toBe(
      `wx-followers: ${FAKE_APPID} in ${withoutPassword}: the walk is complete: 251 followers (101 seen by this run, 3 joined), 2 left.\n`,
    );
    const sql = (text: string): Promise<Record<string, unknown>[]> => server().sql(text, [], name);
    const runs =
      'SELECT id::int, walk_id::int, complete, followers::int, joined::int, left_count::int, cursor, stop_reason FROM wx_runs ORDER BY id';
    expect(await sql(runs)).toEqual([
      { id: 1, walk_id: 1, complete: 1, followers: 250, joined: 0, left_count: 0, cursor: null, stop_reason: 'complete' },
      {
        id: 2,
        walk_id: 2,
        complete: 0,
        followers: 150,
        joined: 0,
        left_count: 0,
        cursor: everyone[151],
        stop_reason: '--limit 150 reached',
      },
      { id: 3, walk_id: 2, complete: 1, followers: 101, joined: 3, left_count: 2, cursor: null, stop_reason: 'complete' },
    ]);
    expect(await sql('SELECT openid, kind FROM wx_changes ORDER BY kind, openid')).toEqual([
      ...everyone.slice(300, 303).map((openid) => ({ openid, kind: 'joined' })),
      ...[everyone[10], everyone[100]].map((openid) => ({ openid, kind: 'left' })),
    ]);
  });

  it('two accounts in one database; a second sync of an account under way is refused (exit 1), naming the holder', async () => {
    const name = await server().createDatabase();
    const [shop, news] = threeAccounts(120) as [FakeAccount, FakeAccount];
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const api = await fake({
      accounts: [shop, news],
      pageSize: 50,
      fault: (call) => (holding && call.path === '/cgi-bin/user/get' ? { kind: 'hold', until: held } : undefined),
    });
    const dir = await tempDir();
    await configWith(dir, api, [shop, news]);
    const run = (args: string[]): Promise<CliResult> =>
      runCli(['sync', '--db', server().url(name), ...args], { env: cleanEnv(dir), cwd: dir });
    const both = await run(['--all-profiles']);
    expectNoPassword(both);
    expect(both.code).toBe(0);
    expect(both.stderr).toContain(`\n  news: complete (baseline) into ${shownUrl(name)}, 120 followers\n`);
    expect(await server().sql('SELECT appid, COUNT(*)::int AS n FROM wx_followers GROUP BY appid ORDER BY appid', [], name)).toEqual([
      { appid: shop.appid, n: 120 },
      { appid: news.appid, n: 120 },
    ]);
    holding = true;
    const first = run(['--profile', 'shop']);
    await until(async () => (await server().sql("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted")).length > 0);
    const second = await run(['--profile', 'shop']);
    expectNoPassword(second);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^wx-followers: Another sync of AppID ${shop.appid} into ${shownPattern(name)} holds its lock \\(wx-followers sync, pid \\d+ on .+\\): two syncs`,
      ),
    );
    // Another account goes on meanwhile.
    holding = false;
    expect((await run(['--profile', 'news'])).code).toBe(0);
    release();
    expect((await first).code).toBe(0);
  });

  it('refuses a newer schema, a malformed URL and a plain connection to another host (exit 2), and a wrong password (exit 1), before any call', async () => {
    const name = await server().createDatabase();
    const api = await fake({ followers: 50 });
    expect((await sync(api, ['--db', server().url(name)])).code).toBe(0);
    await server().sql('UPDATE wx_schema SET version = 2', [], name);
    const calls = api.calls.length;
    const newer = await sync(api, ['--db', server().url(name)]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(new RegExp(`^wx-followers: ${shownPattern(name)} holds schema version 2, newer than version 1`));
    const plain = await sync(api, ['--db', `postgres://wx:${encodeURIComponent(PG_PASSWORD)}@db.example/x?sslmode=disable`]);
    expect([plain.code, plain.stderr]).toEqual([
      2,
      expect.stringMatching(
        /^wx-followers: The database URL from --db asks for a plain connection \(sslmode=disable\) to a host that is not this machine/,
      ),
    ]);
    const malformed = await sync(api, [], { WX_DB: `postgres://wx:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1/x?sslmode=maybe` });
    expect([malformed.code, malformed.stderr]).toEqual([
      2,
      expect.stringMatching(/^wx-followers: The database URL from WX_DB has sslmode=maybe/),
    ]);
    const wrong = await sync(api, ['--db', `postgres://wx_admin:wrong@127.0.0.1:${server().port}/${name}`]);
    expect([wrong.code, wrong.stderr]).toEqual([
      1,
      expect.stringMatching(/refused the login of user 'wx_admin'.*password authentication failed/),
    ]);
    expect(wrong.stderr).not.toContain(':wrong@');
    expect(api.calls.length).toBe(calls);
    expect(await server().sql('SELECT version FROM wx_schema', [], name)).toEqual([{ version: 2 }]);
  });

  it('PostgreSQL going away mid-run: the run stops (exit 1) naming the database without its password; nothing half-written; the next sync goes on', async () => {
    const name = await server().createDatabase();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const api = await fake({
      followers: 500,
      pageSize: 100,
      fault: (call) => (call.path === '/cgi-bin/user/get' && call.index > 3 ? { kind: 'hold', until: held } : undefined),
    });
    const dir = await tempDir();
    const child = spawn(process.execPath, [BIN, 'sync', '--base-url', api.url, '--appid', FAKE_APPID, '--db', server().url(name)], {
      env: cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN }),
      cwd: dir,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const cursor = api.followers.at(299);
    // Three pages committed, the fourth held at the API: the server goes away, then the page comes.
    await until(
      async () =>
        (
          await server()
            .sql('SELECT cursor FROM wx_runs', [], name)
            .catch(() => [])
        )[0]?.['cursor'] === cursor,
    );
    await server().stop();
    release();
    const code = await exited;
    await server().start();
    expect(code).toBe(1);
    expectNoPassword({ code, stderr, stdout: Buffer.alloc(0) });
    expect(stderr).toMatch(new RegExp(`^wx-followers: The connection to the database ${shownPattern(name)} .*was lost`));
    expect(stderr).toMatch(
      /300 followers recorded this run \(300 of this walk\), 0 joined; nobody is marked as left until a walk is complete\. The next sync goes on after \S+\.\n$/,
    );
    expect(await server().sql('SELECT cursor, followers::int, complete, ended_at FROM wx_runs', [], name)).toEqual([
      { cursor, followers: 300, complete: 0, ended_at: null },
    ]);
    expect(await server().sql('SELECT COUNT(*)::int AS n FROM wx_followers', [], name)).toEqual([{ n: 300 }]);
    const next = await sync(api, ['--db', server().url(name)]);
    expect(next.stderr).toMatch(/baseline recorded, 500 followers \(200 seen by this run; the walk is complete\)/);
    expect(listCalls(api).at(-3)).toBe(cursor);
    expect(await server().sql('SELECT COUNT(*)::int AS n FROM wx_followers', [], name)).toEqual([{ n: 500 }]);
  });
});
