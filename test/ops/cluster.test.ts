/**
 * WEB_CONCURRENCY=2: two node:cluster workers on one port, sharing PostgreSQL and Redis; a tenant
 * created through one worker is served by both, and both issue tokens (X-Tessera-Worker names the
 * worker that answered); migrations run once; SIGTERM stops the whole cluster with exit 0. Without REDIS_URL, or on the
 * embedded database, more than one worker is refused with one line and exit 78.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { adminClient, adminToken, createJobTenant } from '../admin/helpers.ts';
import { freshTokenRequest } from '../helpers/oauth.ts';
import { PROCESS_START_MS, freePort, startProcess, waitFor, withStart } from '../helpers/process.ts';
import { createPostgresDatabase, requiredUrl, type TestDatabase } from '../helpers/tessera.ts';

const NODE = ['node', '--import', 'tsx', 'src/main.ts'];
const PASSWORD = 'cluster-admin-password';

describe('refusing workers without shared state', () => {
  it('exits 78 with one line for WEB_CONCURRENCY>1 without REDIS_URL or on the embedded database', async () => {
    const kek = randomBytes(32).toString('base64');
    const cases: [Record<string, string>, RegExp][] = [
      [{ WEB_CONCURRENCY: '2', DATABASE_URL: 'postgresql://127.0.0.1:1/none', KEY_ENCRYPTION_KEY: kek }, /WEB_CONCURRENCY .*REDIS_URL/],
      [{ WEB_CONCURRENCY: '2', REDIS_URL: 'redis://127.0.0.1:1' }, /WEB_CONCURRENCY .*DATABASE_URL/],
    ];
    for (const [env, message] of cases) {
      const proc = startProcess(env, NODE);
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
      expect(code).toBe(78);
      const out = proc.output().trim();
      expect(out.split('\n')).toHaveLength(1);
      expect(out).toMatch(message);
    }
  }, 60_000);
});

describe('WEB_CONCURRENCY=2 on PostgreSQL and Redis', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it(
    'serves tokens from both workers, then stops with exit 0',
    async () => {
      database = await createPostgresDatabase();
      const port = await freePort();
      const url = `http://localhost:${port}`;
      const proc = startProcess(
        {
          ...database.env,
          PORT: String(port),
          REDIS_URL: requiredUrl('TEST_REDIS_URL'),
          WEB_CONCURRENCY: '2',
          LOG_LEVEL: 'info',
          BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
          ARGON2_MEMORY_KIB: '8192',
          ARGON2_TIME_COST: '1',
        },
        NODE,
      );
      let code: number | null;
      try {
        await waitFor(`${url}/readyz`, PROCESS_START_MS, proc);
        const api = adminClient(url, await adminToken(url, 'system', 'admin', PASSWORD));
        const { slug, auth } = await createJobTenant(api, 'c');

        const workers = new Map<string, number>();
        for (let i = 0; i < 40 && workers.size < 2; i++) {
          const res = await freshTokenRequest(`${url}/t/${slug}/token`, auth);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          expect(typeof res.body.access_token).toBe('string');
          expect(res.worker).toMatch(/^\d+$/);
          workers.set(res.worker, (workers.get(res.worker) ?? 0) + 1);
        }
        expect([...workers.keys()]).toHaveLength(2);
        expect(workers.has(String(proc.child.pid))).toBe(false); // workers, not the primary
      } finally {
        code = await proc.stop();
      }
      expect(code).toBe(0);
      // migrations ran once, in the primary; exactly one worker bootstrapped
      const out = proc.output();
      expect(out.match(/"msg":"migrations applied"/g)).toHaveLength(1);
      expect(out.match(/"msg":"tessera listening"/g)).toHaveLength(2);
    },
    withStart(60_000),
  );
});
