import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.arkiva/**'],
    // Integration tests share PostgreSQL, Redis and RGW; files run in parallel on 2 cores,
    // each test isolates itself by schema / queue prefix / key prefix.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['./test-support/global-setup.ts'],
    reporters: ['default', './test-support/summary-reporter.ts'],
  },
});
