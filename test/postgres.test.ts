/**
 * The PostgreSQL engine against a real server this file starts (test/helpers/postgres.ts), in
 * process: placeholders and types, transactions, cursors, the account lock, TLS modes, and every
 * failure as a WxError naming the database without its password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, WxError } from '../src/errors.js';
import type { Database } from '../src/out/db/database.js';
import { openPostgres } from '../src/out/db/postgres.js';
import { type PostgresTarget, parsePostgresUrl } from '../src/out/db/postgres-target.js';
import { startSilentServer } from './helpers/proxy.js';
import { usePostgres } from './helpers/postgres.js';
import { PG_PASSWORD } from './helpers/postgres-server.js';
import { makeCertificates, type TestCertificates } from './helpers/tls.js';

const NO_ENV = {};

let certificates: TestCertificates;
beforeAll(async () => {
  certificates = await makeCertificates(['127.0.0.1', 'localhost']);
}, 60_000);
afterAll(async () => certificates.remove());
const server = usePostgres({ tls: () => certificates });

const target = (url: string, env: Record<string, string> = NO_ENV): PostgresTarget => parsePostgresUrl(url, '--db', env);

/** The failure of `attempt`, checked to be a WxError (exit 1) that never shows the password. */
async function failure(attempt: Promise<unknown>): Promise<WxError> {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WxError);
  const wx = error as WxError;
  expect(wx.exitCode).toBe(ExitCode.Failure);
  expect(wx.message).not.toContain(PG_PASSWORD);
  expect(wx.message).not.toContain(encodeURIComponent(PG_PASSWORD));
  return wx;
}

async function withDatabase<T>(url: string, use: (db: Database) => Promise<T>): Promise<T> {
  const db = await openPostgres(target(url), { readOnly: false });
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

describe('the database URL', () => {
  it('is parsed with its defaults, and shown with the password blanked', () => {
    const parsed = target('postgres://wx%20user:pa%3Ass@db.example:6543/follow%2Ders?sslmode=verify-ca&connect_timeout=7');
    expect(parsed).toMatchObject({ host: 'db.example', port: 6543, user: 'wx user', password: 'pa:ss', database: 'follow-ers' });
    expect(parsed).toMatchObject({ sslmode: 'verify-ca', connectTimeoutSeconds: 7 });
    expect(parsed.shown).toBe('postgres://wx%20user:***@db.example:6543/follow%2Ders?sslmode=verify-ca&connect_timeout=7');
    // Loopback: plain by default; any other host: verify-full. PGPASSWORD when the URL has none.
    expect(target('postgresql://me@127.0.0.1/x', { PGPASSWORD: 'env-secret' })).toMatchObject({
      sslmode: 'disable',
      password: 'env-secret',
      port: 5432,
    });
    expect(target('postgres://me@[::1]/x')).toMatchObject({ host: '::1', sslmode: 'disable', password: undefined });
    expect(target('postgres://me@db.example/x')).toMatchObject({ sslmode: 'verify-full', connectTimeoutSeconds: 15 });
    expect(target('postgres://localhost', { PGUSER: 'envuser' })).toMatchObject({ user: 'envuser', database: 'envuser' });
  });

  it('is refused (exit 2, never quoting the password) when malformed, or plain to another host', () => {
    const refusals: [string, RegExp][] = [
      ['postgres://u:topsecret@db.example/x?sslmode=disable', /plain connection \(sslmode=disable\) to a host that is not this machine/],
      ['postgres://u:topsecret@localhost/x?sslmode=prefer', /sslmode=prefer: use one of disable, require, verify-ca, verify-full/],
      ['postgres://u:topsecret@localhost/x?password=topsecret', /a parameter the tool does not take: 'password'/],
      ['postgres://u:topsecret@localhost/x?connect_timeout=0', /connect_timeout=0: give whole seconds/],
      [
        'postgres://u:topsecret@localhost/x?sslmode=disable&sslmode=require',
        /^The database URL from --db gives sslmode more than once: give it once\.$/,
      ],
      ['postgres://u:topsecret@localhost/x?connect_timeout=5&sslmode=require&connect_timeout=5', /gives connect_timeout more than once/],
      ['postgres://u:top%zzsecret@localhost/x', /malformed %-escape/],
      ['postgres:///x', /must name one host/],
      ['postgres://u:topsecret@a,b/x', /must name one host/],
      ['postgres://u:topsecret@[::1/x', /is not a URL/],
      // A password with a '/' not %-encoded: its end lands in the path, and is never quoted.
      ['postgres://u:1234/topsecret@localhost/x', /more than a database after its host: %-encode/],
      ['postgres://u:1234/topsecret@localhost', /more than a database after its host/],
      ['postgres://u:top/secret@localhost/x', /is not a URL/],
    ];
    for (const [url, message] of refusals) {
      const attempt = (): unknown => target(url);
      expect(attempt).toThrow(message);
      try {
        attempt();
      } catch (error) {
        expect((error as WxError).exitCode).toBe(ExitCode.Usage);
        expect((error as WxError).message).not.toContain('topsecret');
      }
    }
  });
});

describe('the engine', () => {
  it('numbers ? placeholders (not inside quotes) and gives BIGINT, NUMERIC and booleans as SQLite does', async () => {
    await withDatabase(server().url(), async (db) => {
      expect(db.engine).toBe('postgres');
      expect(db.shown).toBe(server().url().replace(encodeURIComponent(PG_PASSWORD), '***'));
      const [row] = await db.query(
        `SELECT ?::bigint AS big, ?::text AS text, '?' AS quoted, n."?" AS named, ?::text IS NULL AS isnull, 1 = 2 AS no, -- a comment?
           (SELECT SUM(x) FROM (SELECT 1::bigint AS x UNION ALL SELECT 9007199254740000) AS t) AS total
         FROM (SELECT 1 AS "?") AS n /* ? */`,
        [1_700_000_000, 'a?b', null],
      );
      expect(row).toEqual({ big: 1_700_000_000, text: 'a?b', quoted: '?', named: 1, total: 9007199254740001, isnull: 1, no: 0 });
      expect(await db.query('CREATE TEMP TABLE t (x INT)')).toEqual([]);
    });
  });

  it('commits a transaction on one connection, and rolls it back (the error passed on) when the work throws', async () => {
    const name = await server().createDatabase();
    await withDatabase(server().url(name), async (db) => {
      await db.query('CREATE TABLE t (x BIGINT PRIMARY KEY)');
      const done = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (x) VALUES (?), (?)', [1, 2]);
        // Inside: the same transaction sees its own rows; a nested call is the same transaction.
        return tx.transaction(async (inner) => (await inner.query('SELECT COUNT(*) AS n FROM t'))[0]?.['n']);
      });
      expect(done).toBe(2);
      const thrown = new Error('the work failed');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t (x) VALUES (?) ON CONFLICT (x) DO UPDATE SET x = excluded.x', [3]);
          throw thrown;
        }),
      ).rejects.toBe(thrown);
      expect(await db.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1 }, { x: 2 }]);
      // A statement the server refuses: a WxError with the SQLSTATE, the transaction rolled back.
      const refused = await failure(db.transaction(async (tx) => tx.query('INSERT INTO t (x) VALUES (?), (?)', [4, 1])));
      expect(refused.message).toMatch(/refused a statement: .*duplicate key.*\(SQLSTATE 23505\)/);
      expect(await db.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 2 }]);
    });
  });

  it('streams rows through a cursor, a few hundred at a time, and gives the connection back when left early', async () => {
    await withDatabase(server().url(), async (db) => {
      let count = 0;
      let sum = 0;
      for await (const row of db.rows('SELECT g AS n FROM generate_series(1, ?::int) AS g ORDER BY g', [1234])) {
        count += 1;
        sum += Number(row['n']);
      }
      expect([count, sum]).toEqual([1234, (1234 * 1235) / 2]);
      // Ten early exits on a pool of three: each one's connection came back.
      for (let round = 0; round < 10; round += 1) {
        for await (const row of db.rows('SELECT g AS n FROM generate_series(1, 5000) AS g')) {
          expect(row['n']).toBe(1);
          break;
        }
      }
      expect(
        await db.query('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE state = ? AND datname = current_database()', [
          'idle in transaction',
        ]),
      ).toEqual([{ n: 0 }]);
    });
  });
});

describe('the account lock', () => {
  it('refuses a second sync of the AppID (naming the holder), lets other AppIDs go, and is free once released', async () => {
    await withDatabase(server().url(), async (first) => {
      await withDatabase(server().url(), async (second) => {
        const release = await first.lockAccount('wx1234567890abcdef');
        const refused = await failure(second.lockAccount('wx1234567890abcdef'));
        expect(refused.message).toMatch(
          /^Another sync of AppID wx1234567890abcdef into postgres:\/\/wx_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres holds its lock/,
        );
        expect(refused.message).toContain(`(wx-followers sync, pid ${process.pid} on `);
        const other = await second.lockAccount('wx0000000000000000');
        await other();
        await release();
        const again = await second.lockAccount('wx1234567890abcdef');
        await again();
      });
    });
  });

  it('is released by the server when its connection ends, and a sync that lost it writes nothing more', async () => {
    await withDatabase(server().url(), async (holder) => {
      await holder.lockAccount('wx1111111111111111');
      await server().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'wx-followers sync%'");
      const lost = await failure(
        (async () => {
          for (let tries = 0; tries < 100; tries += 1) {
            await holder.query('SELECT 1');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })(),
      );
      expect(lost.message).toMatch(/that held the lock of AppID wx1111111111111111 was lost/);
      await withDatabase(server().url(), async (next) => {
        await (await next.lockAccount('wx1111111111111111'))();
      });
    });
  });
});

describe('connections', () => {
  it('encrypts with sslmode=require, and verify-ca/verify-full refuse a server whose CA is not trusted', async () => {
    const ssl = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';
    expect(await withDatabase(server().url('postgres', 'sslmode=require'), (db) => db.query(ssl))).toEqual([{ ssl: 1 }]);
    expect(await withDatabase(server().url('postgres', 'sslmode=disable'), (db) => db.query(ssl))).toEqual([{ ssl: 0 }]);
    for (const mode of ['verify-ca', 'verify-full']) {
      const refused = await failure(openPostgres(target(server().url('postgres', `sslmode=${mode}`)), { readOnly: false }));
      expect(refused.message).toMatch(
        /could not be verified \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\).*NODE_EXTRA_CA_CERTS=FILE.*sslmode=require/,
      );
    }
  });

  it('says what failed and what to do: a wrong password, a missing database, nothing listening, no answer', async () => {
    const port = server().port;
    const wrong = await failure(
      openPostgres(target(`postgres://wx_admin:${encodeURIComponent(`${PG_PASSWORD}x`)}@127.0.0.1:${port}/postgres`), { readOnly: false }),
    );
    expect(wrong.message).toMatch(
      /^The database postgres:\/\/wx_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres refused the login of user 'wx_admin': .*password authentication failed.*PGPASSWORD/,
    );
    // A password of one character is not blanked inside other words: here the x of wx_admin.
    const short = await failure(openPostgres(target(`postgres://wx_admin:x@127.0.0.1:${port}/postgres`), { readOnly: false }));
    expect(short.message).toMatch(
      /^The database postgres:\/\/wx_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres refused the login of user 'wx_admin': .*for user "wx_admin"/,
    );
    expect(short.message).not.toContain('w***');
    const fromEnv = await failure(
      openPostgres(target(`postgres://wx_admin@127.0.0.1:${port}/postgres`, { PGPASSWORD: 'not-it' }), { readOnly: false }),
    );
    expect(fromEnv.message).toMatch(/refused the login of user 'wx_admin'/);
    // No password at all, where the server asks for one (SCRAM): said so, not pg's SASL words.
    const none = await failure(openPostgres(target(`postgres://wx_admin@127.0.0.1:${port}/postgres`), { readOnly: false }));
    expect(none.message).toMatch(
      /^The database postgres:\/\/wx_admin@127\.0\.0\.1:\d+\/postgres asks user 'wx_admin' for a password, and none was given: set PGPASSWORD \(or put it in the URL/,
    );
    expect(none.message).not.toMatch(/SASL/);
    const missing = await failure(openPostgres(target(server().url('no_such_db')), { readOnly: false }));
    expect(missing.message).toMatch(/^The database 'no_such_db' does not exist on 127\.0\.0\.1:\d+: create it/);
    const silent = await startSilentServer();
    try {
      const slow = await failure(
        openPostgres(target(`postgres://wx_admin:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${silent.port}/x?connect_timeout=1`), {
          readOnly: false,
        }),
      );
      expect(slow.message).toMatch(/127\.0\.0\.1:\d+ did not answer within 1 s.*connect_timeout/);
    } finally {
      await silent.close();
    }
    const closedPort = silent.port;
    const refused = await failure(
      openPostgres(target(`postgres://wx_admin:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${closedPort}/x`), { readOnly: false }),
    );
    expect(refused.message).toMatch(/nothing accepts connections on 127\.0\.0\.1:\d+\. Check that PostgreSQL runs there/);
  });

  it('a server that goes away mid-transaction: a WxError naming the database, nothing of it visible after the restart', async () => {
    const name = await server().createDatabase();
    await withDatabase(server().url(name), async (db) => db.query('CREATE TABLE t (x BIGINT)'));
    const db = await openPostgres(target(server().url(name)), { readOnly: false });
    try {
      const lost = await failure(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t (x) VALUES (1), (2)');
          await server().stop();
          await tx.query('INSERT INTO t (x) VALUES (3)');
        }),
      );
      expect(lost.message).toMatch(
        /^The connection to the database postgres:\/\/wx_admin:\*\*\*@127\.0\.0\.1:\d+\/wx_test_\d+ was lost .*Run the command again once the database is back\.$/,
      );
      const down = await failure(db.query('SELECT 1'));
      expect(down.message).toMatch(/nothing accepts connections|was lost/);
    } finally {
      await server().start();
      await db.close();
    }
    expect(await server().sql('SELECT COUNT(*)::int AS n FROM t', [], name)).toEqual([{ n: 0 }]);
  });
});
