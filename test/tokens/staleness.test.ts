/**
 * Issue 14, part 2: a lost invalidation must not keep a deleted client or a removed role alive.
 * Two instances share PostgreSQL and a private Redis. Instance 2's view of the tenant is warm;
 * then Redis goes away (its subscription with it) or the subscriber connection is killed, a client
 * is deleted and a role loses a scope through instance 1, and instance 2 must refuse the client and
 * stop granting the scope within TENANT_CACHE_MAX_STALENESS — by comparing tenant versions with the
 * database, or at once when its subscription comes back.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { privateRedis, type PrivateRedis } from '../helpers/infra.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, TEST_ENV, createPostgresDatabase, type TestDatabase } from '../helpers/tessera.ts';

const API = 'https://epi.stale.example/api';
const BOUND = 2; // TENANT_CACHE_MAX_STALENESS for this test, seconds

describe('bounded staleness across two instances', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let one: Tessera;
  let two: Tessera;
  let api: ReturnType<typeof adminClient>;
  const token = (t: Tessera, form: Record<string, string>, auth: { clientId: string; clientSecret: string }) =>
    tokenRequest(`http://localhost:${t.port}/t/stale/token`, form, auth);

  beforeAll(async () => {
    db = await createPostgresDatabase();
    redis = await privateRedis();
    await redis.start();
    const env = { ...TEST_ENV, ...db.env, REDIS_URL: redis.url, TENANT_CACHE_MAX_STALENESS: String(BOUND) };
    one = await startTessera(loadConfig(env));
    two = await startTessera(loadConfig({ ...env, PUBLIC_URL: one.publicUrl }));
    api = adminClient(one.publicUrl, await adminToken(one.publicUrl, 'system', 'admin', ADMIN_PASSWORD));
    const must = async (p: ReturnType<typeof api>) => expect((await p).status).toBeLessThan(300);
    await must(api('POST', '/tenants', { slug: 'stale', name: 'Stale' }));
    await must(api('POST', '/tenants/stale/resources', { audience: API, name: 'API', scopes: ['read', 'write'] }));
    await must(
      api('POST', '/tenants/stale/roles', {
        name: 'worker',
        permissions: [
          { resource: API, scope: 'read' },
          { resource: API, scope: 'write' },
        ],
      }),
    );
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await redis?.stop();
    await db?.drop();
  });

  const newClient = async () => {
    const res = await api('POST', '/tenants/stale/clients', { name: 'job', grantTypes: ['client_credentials'], roles: ['worker'], defaultResource: API });
    return { clientId: res.body.clientId as string, clientSecret: res.body.clientSecret as string };
  };
  /** instance 2 has the tenant (and this client) in memory, granting read and write */
  const warm = async (client: { clientId: string; clientSecret: string }) => {
    const res = await token(two, { grant_type: 'client_credentials' }, client);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).scope).toBe('read write');
  };
  const restoreWorker = () =>
    api('PATCH', '/tenants/stale/roles/worker', {
      permissions: [
        { resource: API, scope: 'read' },
        { resource: API, scope: 'write' },
      ],
    });

  it('catches up within the bound while Redis (and so every invalidation) is gone', async () => {
    const doomed = await newClient();
    const kept = await newClient();
    await warm(doomed);
    await warm(kept);
    await redis.stop();
    try {
      const changedAt = Date.now();
      expect((await api('DELETE', `/tenants/stale/clients/${doomed.clientId}`)).status).toBe(204);
      expect((await api('PATCH', '/tenants/stale/roles/worker', { permissions: [{ resource: API, scope: 'read' }] })).status).toBe(200);
      await expect
        .poll(async () => (await token(two, { grant_type: 'client_credentials' }, doomed)).status, { timeout: (BOUND + 2) * 1000, interval: 100 })
        .toBe(401);
      await expect
        .poll(async () => decodeJwt((await token(two, { grant_type: 'client_credentials' }, kept)).body.access_token as string).scope, {
          timeout: (BOUND + 2) * 1000,
          interval: 100,
        })
        .toBe('read');
      expect(Date.now() - changedAt).toBeLessThan((BOUND + 2) * 1000);
    } finally {
      await redis.start();
    }
    expect((await restoreWorker()).status).toBe(200);
  });

  it('re-checks at once when its subscription comes back after messages were lost', async () => {
    // a long bound, so that only the re-check on reconnect can explain a quick catch-up
    const three = await startTessera(
      loadConfig({ ...TEST_ENV, ...db.env, REDIS_URL: redis.url, PUBLIC_URL: one.publicUrl, TENANT_CACHE_MAX_STALENESS: '3600' }),
    );
    try {
      const doomed = await newClient();
      const res = await tokenRequest(`http://localhost:${three.port}/t/stale/token`, { grant_type: 'client_credentials' }, doomed);
      expect(res.status).toBe(200);
      // the subscription is lost, and so is the message of a change made meanwhile
      await redis.stop();
      try {
        expect((await api('DELETE', `/tenants/stale/clients/${doomed.clientId}`)).status).toBe(204);
        // still served from memory: nothing told instance three, and its version check is an hour away
        expect((await tokenRequest(`http://localhost:${three.port}/t/stale/token`, { grant_type: 'client_credentials' }, doomed)).status).toBe(200);
      } finally {
        await redis.start();
      }
      await expect
        .poll(async () => (await tokenRequest(`http://localhost:${three.port}/t/stale/token`, { grant_type: 'client_credentials' }, doomed)).status, {
          timeout: 5000,
          interval: 100,
        })
        .toBe(401);
    } finally {
      await three.close();
    }
  });
});
