import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    // vitest's default is one worker per CPU less one: a single worker on the 2-core machine, and
    // the suite (mostly waiting on servers, PostgreSQL, Redis and child processes) ran file after
    // file, 24 min in CI. Three workers overlap the waiting (measured: see README → Testing).
    maxWorkers: 3,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
