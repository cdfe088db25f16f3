/**
 * Two instances starting at once on one empty PostgreSQL database: migrations applied once, one
 * `system` tenant, one platform admin. (PGlite is single-process by design: one DATA_DIR, one
 * process, so this case only exists on PostgreSQL.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { BACKENDS, TEST_ENV, createPostgresDatabase, type TestDatabase } from '../helpers/tessera.ts';

describe.runIf(BACKENDS.includes('postgres'))('concurrent start on PostgreSQL', () => {
  let database: TestDatabase;
  const instances: Tessera[] = [];
  afterAll(async () => {
    await Promise.all(instances.map((t) => t.close()));
    await database?.drop();
  });

  it('bootstraps exactly once', async () => {
    database = await createPostgresDatabase();
    const config = loadConfig({ ...TEST_ENV, ...database.env, BOOTSTRAP_ADMIN_PASSWORD: '' });
    const started = await Promise.all([startTessera(config), startTessera(config), startTessera(config)]);
    instances.push(...started);
    expect(started.filter((t) => t.bootstrap.created)).toHaveLength(1);
    expect(started.filter((t) => t.bootstrap.generatedPassword)).toHaveLength(1);
    const prisma = started[0]!.db.prisma;
    expect(await prisma.tenant.count({ where: { slug: 'system' } })).toBe(1);
    expect(await prisma.user.count()).toBe(1);
    expect(await prisma.client.count({ where: { clientId: 'admin-cli' } })).toBe(1);
    const applied = await prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM _prisma_migrations`;
    expect(Number(applied[0]!.n)).toBeGreaterThan(0);
    const dup = await prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) - count(DISTINCT migration_name) AS n FROM _prisma_migrations`;
    expect(Number(dup[0]!.n)).toBe(0);
    // every instance serves the same system tenant
    const kids = await Promise.all(
      started.map(async (t) => ((await (await fetch(`${t.publicUrl}/t/system/jwks`)).json()) as { keys: { kid: string }[] }).keys[0]!.kid),
    );
    expect(new Set(kids).size).toBe(1);
  });
});

describe('bootstrap built-ins', () => {
  it('are present in system and in every later tenant', async () => {
    const { startTestServer } = await import('../helpers/tessera.ts');
    const server = await startTestServer('pglite');
    try {
      const { prisma } = server.tessera.db;
      const t = await server.tessera.services.tenants.create({ slug: 'later', name: 'Later' });
      for (const [slug, roles] of [
        ['system', ['platform-admin', 'tenant-admin']],
        ['later', ['tenant-admin']],
      ] as const) {
        const tenant = await prisma.tenant.findUniqueOrThrow({ where: { slug } });
        const roleNames = (await prisma.role.findMany({ where: { tenantId: tenant.id } })).map((r) => r.name).sort();
        expect(roleNames).toEqual([...roles]);
        const resource = await prisma.resource.findFirstOrThrow({ where: { tenantId: tenant.id } });
        expect(resource.audience).toBe(`${server.url}/admin`);
        const cli = await prisma.client.findFirstOrThrow({ where: { tenantId: tenant.id, clientId: 'admin-cli' }, include: { secrets: true } });
        expect(cli).toMatchObject({ tokenEndpointAuthMethod: 'none', grantTypes: ['password', 'refresh_token'], defaultResourceId: resource.id });
        expect(cli.secrets).toHaveLength(0);
      }
      expect(t.issuer).toBe(`${server.url}/t/later`);
      const admin = await prisma.user.findFirstOrThrow({ where: { username: 'admin' }, include: { roles: { include: { role: true } } } });
      expect(admin.roles.map((r) => r.role.name).sort()).toEqual(['platform-admin', 'tenant-admin']);
    } finally {
      await server.stop();
    }
  });
});
