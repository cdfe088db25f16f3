/**
 * A tenant the server cannot serve (its active signing key is gone, or no longer opens with the
 * key-encryption key) can still be administered: the admin API acts on its row, so a platform
 * admin can disable its users and rotate its keys, which repairs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { adminClient, adminToken } from './helpers.ts';

describe.each(BACKENDS)('a tenant that cannot be served, on %s', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is administered from its row, and a key rotation repairs it', async () => {
    const platform = adminClient(server.url, await adminToken(server.url, 'system', 'admin', ADMIN_PASSWORD));
    expect(
      (await platform('POST', '/tenants', { slug: 'broken', name: 'Broken', admin: { username: 'keeper', password: 'keeper-long-password-1' } })).status,
    ).toBe(201);
    expect((await platform('POST', '/tenants', { slug: 'other', name: 'Other', admin: { username: 'boss', password: 'boss-long-password-1' } })).status).toBe(
      201,
    );
    const keeper = adminClient(server.url, await adminToken(server.url, 'broken', 'keeper', 'keeper-long-password-1'));
    const otherAdmin = adminClient(server.url, await adminToken(server.url, 'other', 'boss', 'boss-long-password-1'));
    const anonymous = adminClient(server.url);
    const user = await platform('POST', '/tenants/broken/users', { username: 'ann', password: 'ann-long-password-1', roles: [] });
    expect(user.status).toBe(201);
    expect((await fetch(`${server.url}/t/broken/.well-known/openid-configuration`)).status).toBe(200);

    // the active key is lost (a restore that missed a row, a key sealed under another KEK)
    const prisma = server.tessera.db.prisma;
    const tenant = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'broken' } });
    await prisma.signingKey.deleteMany({ where: { tenantId: tenant.id, state: 'active' } });
    server.tessera.pool.invalidate(tenant.id);
    expect((await fetch(`${server.url}/t/broken/.well-known/openid-configuration`)).status).toBe(503);

    // no one else gets in through the fallback: another tenant's admin is refused before any
    // lookup (403), no token is a 401, and the broken tenant's own tokens cannot be checked
    // without its keys (503, never accepted)
    const userPath = `/tenants/broken/users/${user.body.id as string}`;
    for (const [method, path, body] of [
      ['GET', '/tenants/broken/users', undefined],
      ['PATCH', userPath, { disabled: true }],
      ['POST', '/tenants/broken/keys/rotate', undefined],
    ] as const) {
      expect((await otherAdmin(method, path, body)).status).toBe(403);
      expect((await anonymous(method, path, body)).status).toBe(401);
      expect((await keeper(method, path, body)).status).toBe(503);
    }
    expect((await platform('GET', userPath)).body).toMatchObject({ disabled: false });

    // the admin API still reaches it
    expect((await platform('GET', '/tenants/broken')).status).toBe(200);
    const disabled = await platform('PATCH', `/tenants/broken/users/${user.body.id as string}`, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ disabled: true });
    expect((await platform('GET', '/tenants/broken/keys')).body).toMatchObject({ items: [{ state: 'next' }] });

    // rotating promotes the published next key: the tenant serves again
    expect((await platform('POST', '/tenants/broken/keys/rotate')).status).toBe(200);
    expect((await fetch(`${server.url}/t/broken/.well-known/openid-configuration`)).status).toBe(200);
    const audit = await platform('GET', '/tenants/broken/audit-events?type=user.updated,keys.rotated');
    expect((audit.body.items as { type: string }[]).map((e) => e.type)).toEqual(['keys.rotated', 'user.updated']);
  });
});
