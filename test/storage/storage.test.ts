/**
 * What is at rest: private keys encrypted (AES-256-GCM), client secrets and passwords never in
 * clear, oidc-provider artifacts stored under digests, and `consume` an atomic compare-and-set.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/database.ts';
import { createRepositories } from '../../src/repositories/index.ts';
import { createSecretBox } from '../../src/security/crypto.ts';
import { BACKENDS, ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/tessera.ts';

describe.each(BACKENDS)('storage on %s', (backend) => {
  let server: TestServer;
  let prisma: PrismaClient;
  let tenantId: string;
  let secret: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    prisma = server.tessera.db.prisma;
    const t = await server.tessera.services.tenants.create({ slug: 'storage', name: 'Storage', signingAlg: 'RS256' });
    tenantId = t.id;
    const created = await server.tessera.services.forTenant(t.id).clients.create({ name: 'c', grantTypes: ['client_credentials'] });
    secret = created.clientSecret!;
  });
  afterAll(() => server?.stop());

  it('reads a user with its role names in one statement, the same as the typed query would', async () => {
    const svc = server.tessera.services.forTenant(tenantId);
    await svc.roles.create({ name: 'viewer', permissions: [] });
    await svc.roles.create({ name: 'analyst', permissions: [] });
    const created = await svc.users.create({ username: 'Ana', password: 'a long enough password', roles: ['viewer', 'analyst'] });
    await svc.users.create({ username: 'noroles', email: 'n@example.org', password: 'a long enough password', roles: [] });
    const users = createRepositories(prisma).forTenant(tenantId).users;
    const ana = await users.findByUsername('Ana');
    expect(ana).toEqual({
      id: created.id,
      username: 'Ana',
      email: null,
      passwordHash: expect.stringMatching(/^\$argon2id\$/),
      disabled: false,
      roles: ['analyst', 'viewer'],
      passwordChangedAt: expect.any(Date),
      mustChangePassword: false,
      totpSealed: null,
      totpFailures: 0,
      securityVersion: 0,
      passkeyCount: 0,
      recoveryCodesLeft: 0,
      createdAt: expect.any(Date),
    });
    expect(await users.findById(created.id)).toEqual(ana);
    // the typed query (Prisma's select, used for pages) gives the same row
    expect((await users.page({ limit: 100 })).find((u) => u.id === created.id)).toEqual(ana);
    expect(await users.findByUsername('noroles')).toMatchObject({ email: 'n@example.org', roles: [] });
    // case-insensitive after Unicode NFC (as Keycloak), tenant-scoped; a malformed id is no user
    expect(await users.findByUsername('ana')).toEqual(ana);
    expect(await users.findByUsername('ANA')).toEqual(ana);
    expect(await users.findByUsername('an')).toBeNull();
    expect(await createRepositories(prisma).forTenant(randomUUID()).users.findByUsername('Ana')).toBeNull();
    expect(await users.findById('not-a-uuid')).toBeNull();
    expect(await users.findById(randomUUID())).toBeNull();
  });

  it('keeps private signing keys encrypted', async () => {
    const keys = await prisma.signingKey.findMany({ where: { tenantId } });
    // the active key and the next one, published ahead of its first use
    expect(keys.map((k) => k.state).sort()).toEqual(['active', 'next']);
    for (const row of keys) {
      expect(row.privateJwkEncrypted).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.privateJwkEncrypted).not.toContain('"d"');
      expect(JSON.stringify(row.publicJwk)).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
      // another key cannot open it
      expect(() => createSecretBox(randomBytes(32)).decrypt(row.privateJwkEncrypted, `signing-key:${tenantId}:${row.kid}`)).toThrow();
    }
  });

  it('stores client secrets as keyed hashes and passwords as argon2id', async () => {
    const secrets = await prisma.clientSecret.findMany({ where: { tenantId } });
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.hash).not.toContain(secret);
    expect(secrets[0]!.hash).toMatch(/^[\w-]{43}$/);
    const admin = await prisma.user.findFirstOrThrow({ where: { tenant: { slug: 'system' } } });
    expect(admin.passwordHash).toMatch(/^\$argon2id\$/);
    expect(admin.passwordHash).not.toContain(ADMIN_PASSWORD);
  });

  // the adapter's own rules (digests, single use, expiry, revocation) are the adapter contract suite's:
  // test/storage/adapter-contract.test.ts, with the production revocation mirror
});
