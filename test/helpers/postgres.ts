/** One PostgreSQL server per test file (postgres-server.ts): started before its tests, removed after. */
import { afterAll, beforeAll } from 'vitest';
import { type PostgresOptions, type PostgresServer, startPostgres } from './postgres-server.js';

/** Starts one server in beforeAll and removes it in afterAll; the returned function gives it. */
export function usePostgres(options: PostgresOptions = {}): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres(options);
  }, 120_000);
  afterAll(async () => {
    await server?.remove();
  }, 60_000);
  return () => {
    if (server === undefined) throw new Error('The PostgreSQL server did not start (see beforeAll).');
    return server;
  };
}
