/** The OpenAPI 3.1 document describes every registered admin route and is a valid OpenAPI 3.1 document. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';

describe('admin OpenAPI document', () => {
  let server: TestServer;
  let doc: { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };

  beforeAll(async () => {
    server = await startTestServer('pglite');
    const res = await fetch(`${server.url}/admin/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
  });
  afterAll(() => server?.stop());

  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists every route the admin router serves', async () => {
    const { createAdminRouter } = await import('../../src/admin/index.ts');
    const { router } = createAdminRouter({
      publicUrl: server.url,
      services: server.tessera.services,
      pool: server.tessera.pool,
      contextOf: async () => null,
      log: { error() {} } as never,
    });
    const served = router.stack
      .map((layer) => ({ methods: layer.methods, path: String(layer.path) }))
      .filter((layer) => layer.methods.length && !layer.path.includes('*') && !layer.path.endsWith('/openapi.json'))
      .flatMap((layer) =>
        layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${layer.path.replace(/^\/admin/, '').replace(/:(\w+)/g, '{$1}')}`),
      );
    expect(served.length).toBeGreaterThanOrEqual(25);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual([...new Set(served)].sort());
    // and every CONTRACT §5 call is among them
    for (const call of [
      'post /tenants',
      'get /tenants/{t}',
      'post /tenants/{t}/resources',
      'post /tenants/{t}/roles',
      'post /tenants/{t}/users',
      'patch /tenants/{t}/users/{id}',
      'post /tenants/{t}/clients',
      'post /tenants/{t}/clients/{clientId}/secret',
      'post /tenants/{t}/keys/rotate',
    ]) {
      expect(documented).toContain(call);
    }
  });

  it('describes bodies and responses from the same schemas the routes validate with', () => {
    const create = doc.paths['/tenants']!.post!;
    expect(create.requestBody).toMatchObject({
      content: { 'application/json': { schema: { properties: { slug: { type: 'string' } }, required: ['slug', 'name'] } } },
    });
    expect(create.responses['201']).toBeDefined();
    expect(create.responses['409']).toMatchObject({ content: { 'application/problem+json': {} } });
  });
});
