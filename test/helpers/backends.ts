/**
 * The servers a suite needs. `npm test` finds (or starts) PostgreSQL and Redis on their standard
 * local ports and sets TEST_DATABASE_URL / TEST_REDIS_URL (which still override). A suite whose
 * server is missing fails with one line naming what to provide; it never skips green.
 */
export type Backend = 'pglite' | 'postgres';

/** every storage suite runs on both: the embedded PGlite and PostgreSQL with Redis */
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

const WHAT = {
  TEST_DATABASE_URL: 'PostgreSQL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)',
  TEST_REDIS_URL: 'Redis (e.g. redis://127.0.0.1:6379)',
} as const;

export function requiredUrl(name: keyof typeof WHAT): string {
  const value = process.env[name];
  if (!value) throw new Error(`this suite needs ${WHAT[name]}: ${name} is not set (npm test sets it when the server answers on its standard local port)`);
  return value;
}
