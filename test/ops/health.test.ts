/**
 * /healthz answers while the process lives; /readyz checks the database (reachable, migrations
 * applied) and Redis when configured, and turns 503 when one of them is gone. Bodies carry states
 * only: no URLs, hosts or error text.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/process.ts';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop().catch(() => {});
  server = undefined;
});

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe.each(BACKENDS)('health on %s', (backend) => {
  it('healthz is alive; readyz is ready with every check named', async () => {
    server = await startTestServer(backend);
    const live = await get(`${server.url}/healthz`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.text)).toMatchObject({ status: 'ok', pid: process.pid });
    expect(live.headers.get('x-request-id')).toBeTruthy();

    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.text) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('ready');
    expect(body.checks.database).toBe('ok');
    expect(body.checks.migrations).toBe('ok');
    expect(body.checks.redis).toBe(server.tessera.store.kind === 'redis' ? 'ok' : 'not_configured');
    expect(ready.text).not.toMatch(/postgres|redis:\/\/|127\.0\.0\.1|password/i);
  });

  it('readyz is 503 when the database is gone, healthz stays 200', async () => {
    server = await startTestServer(backend);
    expect((await get(`${server.url}/readyz`)).status).toBe(200);
    if (backend === 'postgres') await server.database.drop();
    else await server.tessera.db.close();
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable', migrations: 'unknown' } });
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    const metrics = await get(`${server.url}/metrics`);
    expect(metrics.text).toMatch(/^tessera_dependency_errors_total\{dependency="database"\} [1-9]/m);
  });
});

describe('health with Redis configured', () => {
  it('readyz is 503 when Redis does not answer', async () => {
    const port = await freePort(); // nothing listens there
    server = await startTestServer('pglite', { REDIS_URL: `redis://127.0.0.1:${port}` });
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'not_ready', checks: { database: 'ok', migrations: 'ok', redis: 'unreachable' } });
    expect(ready.text).not.toContain(String(port));
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    const metrics = await get(`${server.url}/metrics`);
    expect(metrics.text).toMatch(/^tessera_dependency_errors_total\{dependency="redis"\} [1-9]/m);
  });
});
