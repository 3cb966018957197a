import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Most tests wait on a CLI subprocess and a fake server, not on the CPU: four files at once
    // on two cores took the suite from about 195 s to 90 s, within .ci/run's ten minutes.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
