/**
 * A tenant's first request reaches its provider through the Koa app (the tenant is built then);
 * later ones go straight to it. Both paths answer errors the same way: the JSON 404 of an unknown
 * endpoint, and the 503 of the token endpoint while the database is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';

describe.each(BACKENDS)('errors of a tenant not yet in memory and of one that is, on %s', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers an unknown endpoint with the same JSON 404 on the first request and later ones', async () => {
    const slug = `cold-${backend}`;
    await server.tessera.services.tenants.create({ slug, name: 'Cold' });
    expect(server.tessera.pool.peek(slug)).toBeUndefined();
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${server.url}/t/${slug}/no-such-endpoint`);
      answers.push({ status: res.status, type: res.headers.get('content-type'), body: await res.json() });
    }
    expect(server.tessera.pool.peek(slug)).toBeDefined();
    for (const a of answers) {
      expect(a).toEqual({ status: 404, type: 'application/json; charset=utf-8', body: { error: 'not_found', error_description: 'no such endpoint' } });
    }
  });
});
