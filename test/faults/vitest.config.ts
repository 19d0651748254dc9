import { defineConfig } from 'vitest/config';

// The fault suite (npm run test:faults): its own Postgres clusters, one experiment per file,
// the files one after another (they crash and restart servers and use both cores each).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.levqor/faults-results.json' }]] : ['default'],
  },
});
