/**
 * Issue 14, part 1: no request is left hanging while the server starts. A request that reaches
 * the port before the server is ready is answered at once — `503` with `Retry-After` and the usual
 * error body (`/healthz` 200, `/readyz` 503) — or the port is not open yet (cluster workers). Polled
 * from the first millisecond with a short client timeout; a timeout fails the test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedLogger } from '../helpers/log-sink.ts';
import { startTessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { privateRedis } from '../helpers/infra.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { startingHandler } from '../../src/observability/starting.ts';
import { PROCESS_START_MS, freePort, startProcess, withStart, type RunningProcess } from '../helpers/process.ts';
import { ADMIN_PASSWORD, TEST_ENV, createPgliteDirectory, createPostgresDatabase, requiredUrl, type TestDatabase } from '../helpers/tessera.ts';

const NODE = [process.execPath, '--import', 'tsx', 'src/main.ts'];

interface Poll {
  refused: number;
  statuses: Map<string, number[]>;
  timeouts: string[];
  /** the last 503 answer per path */
  starting: Map<string, { type: string | null; retryAfter: string | null; body: string }>;
}

/** polls `paths` in turn with a 2 s client timeout until discovery answers 200 (or `ms` pass) */
async function pollUntilReady(base: string, paths: string[], ms: number, proc: RunningProcess): Promise<Poll> {
  const poll: Poll = { refused: 0, statuses: new Map(), timeouts: [], starting: new Map() };
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline; i++) {
    if (proc.child.exitCode !== null) throw new Error(`server exited:\n${proc.output()}`);
    const path = paths[i % paths.length]!;
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000), headers: { connection: 'close' } });
      const body = await res.text();
      poll.statuses.set(path, [...(poll.statuses.get(path) ?? []), res.status]);
      if (res.status === 503) poll.starting.set(path, { type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body });
      if (path.includes('openid-configuration') && res.status === 200) return poll;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') poll.timeouts.push(path);
      else if (e.cause?.code === 'ECONNREFUSED') poll.refused++;
      else throw err;
    }
  }
  throw new Error(`not ready within ${ms} ms:\n${proc.output()}`);
}

describe('requests during start-up', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it(
    "keeps a single process's port closed until it is ready: every connection is answered or refused at once",
    async () => {
      const db: TestDatabase = await createPgliteDirectory();
      cleanups.push(() => db.drop());
      const port = await freePort();
      const proc = startProcess({ ...TEST_ENV, ...db.env, PORT: String(port) }, NODE);
      cleanups.push(() => proc.stop());
      const poll = await pollUntilReady(
        `http://localhost:${port}`,
        ['/t/system/.well-known/openid-configuration', '/healthz', '/readyz', '/admin/tenants'],
        PROCESS_START_MS,
        proc,
      );
      // opening and migrating the embedded database blocks the event loop for seconds: an open port
      // would accept and then say nothing; a closed one refuses at once and the client retries
      expect(poll.timeouts).toEqual([]);
      expect(poll.refused).toBeGreaterThan(0);
      expect(poll.statuses.get('/t/system/.well-known/openid-configuration')).toEqual([200]);
      for (const s of poll.statuses.get('/healthz') ?? []) expect(s).toBe(200);
      for (const s of poll.statuses.get('/admin/tenants') ?? []) expect(s).toBe(401);
    },
    withStart(30_000),
  );

  it("answers 503 with Retry-After and each surface's body while bound before ready (PORT=0)", async () => {
    const http = createServer(startingHandler());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => http.close(r)));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { status: 'not_ready' } });
    expect(await get('/t/system/token')).toMatchObject({
      status: 503,
      retryAfter: '1',
      type: expect.stringContaining('application/json'),
      body: { error: 'temporarily_unavailable' },
    });
    expect(await get('/admin/tenants')).toMatchObject({
      status: 503,
      retryAfter: '1',
      type: expect.stringContaining('application/problem+json'),
      body: { type: 'urn:tessera:problem:unavailable', status: 503 },
    });
  });

  it(
    'keeps the port closed until a worker is ready, and a replacement worker takes no request before it is',
    async () => {
      const db = await createPostgresDatabase();
      cleanups.push(() => db.drop());
      const port = await freePort();
      const proc = startProcess(
        { ...TEST_ENV, ...db.env, PORT: String(port), REDIS_URL: requiredUrl('TEST_REDIS_URL'), WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' },
        NODE,
      );
      cleanups.push(() => proc.stop());
      const base = `http://localhost:${port}`;
      const poll = await pollUntilReady(base, ['/t/system/.well-known/openid-configuration'], PROCESS_START_MS, proc);
      expect(poll.timeouts).toEqual([]);
      // cluster workers bind when ready: before that the port is closed, never a hanging accept
      expect(poll.statuses.get('/t/system/.well-known/openid-configuration')).toEqual([200]);
      // both workers serve before one is stopped (on a loaded machine the second can still be
      // starting when the first answers: stopping the only one would close the port)
      const listening = () => (proc.output().match(/"msg":"tessera listening"/g) ?? []).length;
      await expect.poll(listening, { timeout: 60_000, interval: 50 }).toBe(2);
      // a worker dies: the primary starts another, which binds only once it is ready
      const worker = (await fetch(`${base}/healthz`)).headers.get('x-tessera-worker');
      expect(worker).toMatch(/^\d+$/);
      // stopped (SIGTERM): it finishes what it holds and exits, and the primary starts another.
      // (A worker killed outright can take with it a connection the primary was handing it at that
      // instant: node:cluster's round-robin hand-off, not start-up.)
      process.kill(Number(worker), 'SIGTERM');
      // from the moment the primary starts the replacement until it serves, and a while after
      await expect.poll(() => (proc.output().match(/worker died; starting a new one/g) ?? []).length, { timeout: 30_000, interval: 20 }).toBe(1);
      const answers: number[] = [];
      const timeouts: number[] = [];
      // until the replacement is serving, and a while after
      let until = Date.now() + 30_000;
      while (Date.now() < until) {
        if (listening() === 3 && until - Date.now() > 2000) until = Date.now() + 2000;
        try {
          const res = await fetch(`${base}/t/system/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000), headers: { connection: 'close' } });
          answers.push(res.status);
          await res.arrayBuffer();
        } catch (err) {
          const e = err as Error;
          if (e.name === 'TimeoutError') timeouts.push(Date.now());
          else throw err;
        }
      }
      expect(timeouts).toEqual([]);
      expect(listening()).toBe(3);
      expect(new Set(answers)).toEqual(new Set([200]));
      expect(answers.length).toBeGreaterThan(10);
    },
    withStart(60_000),
  );

  // found by the README-promise tests: a worker could open its port before its Redis connection
  // was up, and its first sign-ins answered 503 (no offline queue)
  it('waits for Redis to answer before serving: the first sign-in after start succeeds', async () => {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    const redis = await privateRedis();
    cleanups.push(() => redis.stop());
    // Redis comes up three seconds after the server starts (which needs about one)
    let resolvedAt = 0;
    const starting = startTessera(loadConfig({ ...TEST_ENV, ...db.env, REDIS_URL: redis.url })).then((t) => ((resolvedAt = Date.now()), t));
    await new Promise((r) => setTimeout(r, 3_000));
    const redisStartedAt = Date.now();
    await redis.start();
    const tessera = await starting;
    cleanups.push(() => tessera.close());
    // it was ready to serve only once Redis was there
    expect(resolvedAt).toBeGreaterThanOrEqual(redisStartedAt);
    // a sign-in needs the brute-force counters in Redis: it fails with 503 while they cannot be reached
    const res = await tokenRequest(`${tessera.publicUrl}/t/system/token`, {
      grant_type: 'password',
      client_id: 'admin-cli',
      username: 'admin',
      password: ADMIN_PASSWORD,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('starts without Redis when it does not answer within 5 s, and says so', async () => {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    const redis = await privateRedis(); // never started
    const captured = capturedLogger('warn');
    const config = loadConfig({ ...TEST_ENV, ...db.env, REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    const started = Date.now();
    const tessera = await startTessera(config, { log: captured.log });
    cleanups.push(() => tessera.close());
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(captured.text()).toContain('Redis does not answer: starting without it');
    const res = await fetch(`${tessera.publicUrl}/t/system/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
  }, 60_000);
});
