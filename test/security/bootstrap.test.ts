/**
 * Audit finding 2, the bootstrap part (issue 13): once no platform admin was left, the next start
 * re-granted `platform-admin` to whatever user was named BOOTSTRAP_ADMIN_USERNAME — a name a
 * `system` tenant-admin could have given a user of their own. Bootstrap now never gives a role to
 * a user it does not create; it warns, and recovery is the explicit `tessera admin recover`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { freePort, runCli } from '../helpers/process.ts';
import { ADMIN_PASSWORD, BACKENDS, TEST_ENV, createTestDatabase, storeEnv, type TestDatabase } from '../helpers/tessera.ts';

describe.each(BACKENDS)('bootstrap and the last platform admin on %s', (backend) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    const port = await freePort();
    const redis = storeEnv(backend);
    env = { ...TEST_ENV, ...db.env, ...redis, PORT: String(port), PUBLIC_URL: `http://localhost:${port}` };
  });
  afterAll(() => db?.drop());

  const cli = (...args: string[]) => runCli(env, ...args);

  it('never promotes an existing user at start-up; `tessera admin recover` does, explicitly', async () => {
    let server = await startTessera(loadConfig(env));
    try {
      const platform = adminClient(server.publicUrl, await adminToken(server.publicUrl, 'system', 'admin', ADMIN_PASSWORD));
      const admin = (await platform('GET', '/tenants/system/users')).body.items!.find((u) => u.username === 'admin')!;
      // the last platform admin steps down (a platform admin may change a platform admin)
      expect((await platform('PATCH', `/tenants/system/users/${admin.id}`, { roles: ['tenant-admin'] })).status).toBe(200);
      expect(await server.db.prisma.userRole.count({ where: { role: { name: 'platform-admin' } } })).toBe(0);
    } finally {
      await server.close();
    }

    server = await startTessera(loadConfig(env));
    try {
      expect(server.bootstrap).toMatchObject({ created: false, noPlatformAdmin: true });
      // `admin` is still a tenant admin of system only
      const demoted = adminClient(server.publicUrl, await adminToken(server.publicUrl, 'system', 'admin', ADMIN_PASSWORD));
      expect((await demoted('POST', '/tenants', { slug: 'nope', name: 'nope' })).status).toBe(403);
    } finally {
      await server.close();
    }

    const recover = cli('admin', 'recover', '--password', 'recovered-admin-password', '--json');
    expect(recover.code, recover.stderr).toBe(0);
    expect(JSON.parse(recover.stdout)).toMatchObject({ username: 'admin', created: false });

    server = await startTessera(loadConfig(env));
    try {
      expect(server.bootstrap).toMatchObject({ created: false });
      expect(server.bootstrap.noPlatformAdmin).toBeUndefined();
      const restored = adminClient(server.publicUrl, await adminToken(server.publicUrl, 'system', 'admin', 'recovered-admin-password'));
      expect((await restored('POST', '/tenants', { slug: 'after-recovery', name: 'After' })).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});
