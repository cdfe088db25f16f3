/**
 * README promise (Operations → Scaling out): with WEB_CONCURRENCY=N the primary "replaces one
 * that dies". A real `node src/main.ts` cluster of two workers on PostgreSQL and Redis; one worker
 * is killed with SIGKILL (no chance to clean up); the sibling keeps serving every request; the
 * primary forks a replacement that serves once it is ready; SIGTERM still stops everything with 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adminClient, adminToken, createJobTenant } from '../admin/helpers.ts';
import { privateRedis, type PrivateRedis } from '../helpers/infra.ts';
import { freshTokenRequest } from '../helpers/oauth.ts';
import { PROCESS_START_MS, freePort, startProcess, waitFor, withStart, type RunningProcess } from '../helpers/process.ts';
import { createPostgresDatabase, type TestDatabase } from '../helpers/tessera.ts';
import { eventually, requiredUrl } from '../helpers/department.ts';

const NODE = [process.execPath, '--import', 'tsx', 'src/main.ts'];
const PASSWORD = 'cluster-admin-password';

/** the JSON log lines of the cluster (primary and workers) */
const logLines = (proc: RunningProcess): Record<string, unknown>[] =>
  proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('WEB_CONCURRENCY=2: the primary replaces a worker that dies', () => {
  let database: TestDatabase | undefined;
  let proc: RunningProcess | undefined;
  let redis: PrivateRedis | undefined;
  afterAll(async () => {
    await proc?.stop();
    await redis?.stop();
    await database?.drop();
  });

  // README: "**One machine, several cores**: `WEB_CONCURRENCY=N` … The primary process applies
  // migrations once, then forks N workers on the same port and replaces one that dies; SIGTERM to
  // the primary stops them all gracefully. Responses carry `X-Tessera-Worker: <pid>` when
  // clustered." and (Start-up) "Each `WEB_CONCURRENCY` worker, and a worker started to replace one
  // that died, binds only when it is ready, while its siblings keep serving."
  it(
    'keeps serving from the sibling while a SIGKILLed worker is replaced, then serves from the new worker',
    async () => {
      requiredUrl('TEST_DATABASE_URL');
      // a Redis of its own: nothing another suite does to the shared one can reach this cluster
      redis = await privateRedis();
      await redis.start();
      database = await createPostgresDatabase();
      const port = await freePort();
      const url = `http://localhost:${port}`;
      proc = startProcess(
        {
          ...database.env,
          PORT: String(port),
          REDIS_URL: redis.url,
          WEB_CONCURRENCY: '2',
          LOG_LEVEL: 'info',
          BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
          ARGON2_MEMORY_KIB: '8192',
          ARGON2_TIME_COST: '1',
        },
        NODE,
      );
      await waitFor(`${url}/readyz`, PROCESS_START_MS, proc);
      const api = adminClient(
        url,
        await adminToken(url, 'system', 'admin', PASSWORD).catch((err: Error) => {
          throw new Error(`${err.message}\n${proc!.output()}`);
        }),
      );
      const { slug, auth } = await createJobTenant(api, 'w');
      const tokenUrl = `${url}/t/${slug}/token`;

      // both workers answer
      const seen = new Set<string>();
      for (let i = 0; i < 60 && seen.size < 2; i++) {
        const res = await freshTokenRequest(tokenUrl, auth);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        seen.add(res.worker);
      }
      expect(seen.size).toBe(2);
      const [victim, sibling] = [...seen].map(Number) as [number, number];
      expect([victim, sibling]).not.toContain(proc.child.pid);

      // one worker dies without any chance to clean up
      process.kill(victim, 'SIGKILL');
      await eventually(`worker ${victim} to be gone`, async () => !isAlive(victim), 10_000, 50);
      // the primary has seen it die (and says which worker, and how)
      const died = () => logLines(proc!).find((l) => l.msg === 'worker died; starting a new one');
      await eventually('the primary to log the death', async () => died() !== undefined, 10_000, 50);
      expect(died()).toMatchObject({ pid: proc.child.pid, workerPid: victim, exitCode: null, signal: 'SIGKILL' });

      // meanwhile the sibling serves every request (the replacement is not bound before it is ready)
      for (let i = 0; i < 10; i++) {
        const res = await freshTokenRequest(tokenUrl, auth);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(typeof res.body.access_token).toBe('string');
        expect(res.worker).not.toBe(String(victim));
      }

      // the primary has started a new worker, which serves once it is ready
      let replacement = '';
      await eventually(
        'a replacement worker to answer',
        async () => {
          const res = await freshTokenRequest(tokenUrl, auth);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          if (res.worker !== String(sibling)) replacement = res.worker;
          return replacement !== '';
        },
        90_000,
        100,
      );
      expect(replacement).toMatch(/^\d+$/);
      expect(replacement).not.toBe(String(victim));
      expect(isAlive(Number(replacement))).toBe(true);
      expect(isAlive(sibling)).toBe(true);
      expect(
        logLines(proc)
          .filter((l) => l.msg === 'tessera listening')
          .map((l) => String(l.pid)),
      ).toEqual(expect.arrayContaining([String(sibling), replacement]));
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      // the cluster still stops as one
      const code = await proc.stop();
      expect(code).toBe(0);
      expect(isAlive(sibling)).toBe(false);
      expect(isAlive(Number(replacement))).toBe(false);
    },
    withStart(150_000),
  );
});
