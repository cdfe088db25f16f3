// @ts-check
/**
 * Mutation testing of the modules that decide who gets a token (issue 19): StrykerJS changes their
 * code one small way at a time and runs the unit tests beside them; a change no test notices is a
 * surviving mutant. `npm run test:mutation`; the HTML report goes to reports/mutation/.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    // sign-in and password hashing, the login guard
    'src/oidc/sign-in.ts',
    'src/security/passwords.ts',
    'src/security/login-guard.ts',
    'src/store/types.ts',
    'src/store/memory.ts',
    // second factors: TOTP and recovery codes
    'src/security/totp.ts',
    'src/security/recovery-codes.ts',
    // refresh rotation, reuse detection, lifetimes; the code grant's PKCE rule
    'src/oidc/grants/refresh-token.ts',
    'src/oidc/grants/authorization-code.ts',
    'src/oidc/adapters/sql.ts',
    'src/oidc/lifetimes.ts',
    // client authentication
    'src/oidc/tokens/client-auth.ts',
    'src/oidc/adapters/clients.ts',
    'src/security/crypto.ts',
    // scope decisions
    'src/oidc/scope.ts',
    'src/oidc/model.ts',
    'src/oidc/interactions/policy.ts',
    // introspection and revocation
    'src/oidc/tokens/endpoints.ts',
    'src/oidc/tokens/inspect.ts',
    'src/services/revocation-list.ts',
    // the admin authorization policy and the admin API's authentication; the tenant pool
    'src/tenants/pool.ts',
    'src/security/work-limiter.ts',
    'src/services/page.ts',
    'src/services/policy.ts',
    'src/admin/auth.ts',
    // the console's sessions (issue 18)
    'src/console/session.ts',
  ],
  ignorePatterns: ['.data', 'test-output', 'reports', 'bench/results', 'scratch', 'dist', 'coverage'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: 80 },
  concurrency: 2,
  timeoutMS: 20_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
