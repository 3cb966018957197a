import { defineConfig } from 'vitest/config';

/**
 * The PostgreSQL tests start a real server of their own (test/helpers/postgres-server.ts) and fail
 * loudly when none is installed. Only an explicit WX_TEST_POSTGRES=skip leaves them out: the
 * workflow's Windows runners, where the server refuses the runner's administrator account.
 */
const skipPostgres = process.env['WX_TEST_POSTGRES'] === 'skip';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: skipPostgres ? ['test/**/*postgres*.test.ts'] : [],
    globalSetup: ['test/global-setup.ts'],
    // Most tests wait on a CLI subprocess and a fake server, not on the CPU: four files at once
    // on two cores took the suite from about 195 s to 90 s, within .ci/run's ten minutes.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
