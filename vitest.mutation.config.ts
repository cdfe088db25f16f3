/**
 * The unit tests beside the code (src/**\/*.test.ts), the suite StrykerJS mutates against
 * (`npm run test:mutation`, stryker.config.mjs): fast, in process, no servers.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // the store tests' Redis variants run in npm test; mutants are judged in process
    env: { TESSERA_TEST_IN_PROCESS_ONLY: '1' },
  },
});
