/**
 * tessera/verifier against a real running Tessera (embedded PGlite): tokens of tenant A verify
 * for A and not for B, and the Koa simulate-api example enforces roles, scopes and tenancy.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulateApi } from '../../examples/simulate-api/app.ts';
import { createVerifier, requireRoles, requireScopes } from '../../src/verifier/index.ts';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';
import { API, seedEpidemicTenants, type Seeded } from './support/tenants.ts';

let server: TestServer;
let seeded: Seeded;
let api: Server;
let apiUrl: string;

beforeAll(async () => {
  server = await startTestServer('pglite');
  seeded = await seedEpidemicTenants(server);
  api = createSimulateApi({ issuers: [seeded.issuerA, seeded.issuerB], audience: API }).listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (api) await new Promise((resolve) => api.close(resolve));
  await server?.stop();
});

describe('verifier with a running Tessera', () => {
  it("accepts tenant A's token for A and refuses it for a verifier of B only", async () => {
    const token = await seeded.token(seeded.analystA);
    const forA = createVerifier({ issuer: seeded.issuerA, audience: API });
    const { payload, protectedHeader } = await forA.verify(token);
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ iss: seeded.issuerA, aud: API, tenant_id: 'health-a', client_id: seeded.analystA.clientId, roles: ['analyst'] });
    expect(() => requireScopes(payload, 'simulate:run', 'outbreaks:read')).not.toThrow();
    expect(() => requireRoles(payload, 'analyst')).not.toThrow();
    expect(() => requireRoles(payload, 'viewer')).toThrow(expect.objectContaining({ code: 'ERR_INSUFFICIENT_ROLE', status: 403 }));

    const forB = createVerifier({ issuer: seeded.issuerB, audience: API });
    await expect(forB.verify(token)).rejects.toMatchObject({ code: 'ERR_ISSUER', status: 401 });
    // B's own (EdDSA) tokens do verify for B
    await expect(forB.verify(await seeded.token(seeded.analystB))).resolves.toMatchObject({ protectedHeader: { alg: 'EdDSA' } });
    // an audience this API is not
    const otherApi = createVerifier({ issuer: seeded.issuerA, audience: 'https://other.example/api' });
    await expect(otherApi.verify(token)).rejects.toMatchObject({ code: 'ERR_AUDIENCE' });
  });
});

describe('examples/simulate-api (Koa)', () => {
  const call = (path: string, token: string | undefined, body?: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("lets an analyst run a simulation on its own tenant's outbreak", async () => {
    const res = await call('/simulate', await seeded.token(seeded.analystA), { outbreakId: 'ob-a-1', days: 90 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outbreakId: 'ob-a-1', days: 90, requestedBy: seeded.analystA.clientId });
  });

  it('refuses a viewer (403) and an anonymous caller (401)', async () => {
    const viewer = await call('/simulate', await seeded.token(seeded.viewerA), { outbreakId: 'ob-a-1' });
    expect(viewer.status).toBe(403);
    expect(viewer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    const anonymous = await call('/simulate', undefined, { outbreakId: 'ob-a-1' });
    expect(anonymous.status).toBe(401);
    const forged = await call('/outbreaks', `${(await seeded.token(seeded.viewerA)).slice(0, -3)}AAA`);
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it("only ever shows the caller tenant's outbreaks", async () => {
    const a = await call('/outbreaks', await seeded.token(seeded.viewerA));
    expect(a.status).toBe(200);
    const bodyA = (await a.json()) as { tenant: string; outbreaks: { id: string; tenantId: string }[] };
    expect(bodyA.tenant).toBe('health-a');
    expect(bodyA.outbreaks.map((o) => o.id).sort()).toEqual(['ob-a-1', 'ob-a-2']);

    const tokenB = await seeded.token(seeded.analystB);
    const b = (await (await call('/outbreaks', tokenB)).json()) as { outbreaks: { tenantId: string }[] };
    expect(b.outbreaks.length).toBeGreaterThan(0);
    expect(b.outbreaks.every((o) => o.tenantId === 'health-b')).toBe(true);
    // B's analyst cannot reach A's outbreak by id, neither to read nor to simulate
    expect((await call('/outbreaks/ob-a-1', tokenB)).status).toBe(404);
    expect((await call('/simulate', tokenB, { outbreakId: 'ob-a-1' })).status).toBe(404);
  });
});
