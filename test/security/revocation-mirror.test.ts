/**
 * Audit finding 3 (issue 13): a revocation whose Redis mirror write failed stayed unseen — the
 * mirror was trusted while its `ready` marker lived (24 h). Reproduced with `CONFIG SET maxmemory 1`
 * (Redis refuses every write, still answers reads), revoke, restore: introspection said
 * `active: true` and the admin API accepted the revoked token. Now a failed mirror write drops the
 * marker (Redis accepts a DEL when out of memory) and bumps the mirror's generation, so every
 * instance asks SQL until the mirror is rebuilt. On PostgreSQL the check is made on a second
 * instance sharing the database and the Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { adminClient } from '../admin/helpers.ts';
import { privateRedis, type PrivateRedis } from '../helpers/infra.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { BACKENDS, TEST_ENV } from '../helpers/tessera.ts';
import { PASSWORDS, introspect, passwordGrant, startDept, type Dept } from './support.ts';

describe.each(BACKENDS)('revocations when the Redis mirror refuses writes, on %s', (backend) => {
  let redis: PrivateRedis;
  let control: Redis;
  let d: Dept;
  let second: Tessera | undefined;
  /** where revocations are checked: a second instance on PostgreSQL, the same one on PGlite */
  let checker: string;

  beforeAll(async () => {
    redis = await privateRedis();
    await redis.start();
    control = new Redis(redis.url, { lazyConnect: false });
    d = await startDept(backend, { REDIS_URL: redis.url });
    checker = d.url;
    if (backend === 'postgres') {
      second = await startTessera(loadConfig({ ...TEST_ENV, ...d.server.database.env, REDIS_URL: redis.url, PUBLIC_URL: d.url }));
      checker = `http://localhost:${second.port}`;
    }
  });
  afterAll(async () => {
    await second?.close();
    await d?.server.stop();
    control?.disconnect();
    await redis?.stop();
  });

  const outOfMemory = async () => {
    await control.config('SET', 'maxmemory-policy', 'noeviction');
    await control.config('SET', 'maxmemory', '1');
  };
  const restore = () => control.config('SET', 'maxmemory', '0');
  /** introspection at the checking instance (same issuer: PUBLIC_URL is shared) */
  const introspectAt = (token: string) => tokenRequest(`${checker}/t/dept/token/introspection`, { token }, d.introspector);
  const revoke = (token: string) => tokenRequest(d.disco.revocation_endpoint!, { token }, d.webapp).catch(() => undefined);

  it('keeps a revoked access token inactive everywhere after Redis refused the mirror write', async () => {
    const signIn = await passwordGrant(d, 'alice', PASSWORDS.alice);
    const at = signIn.body.access_token as string;
    // the mirror is built and trusted before the failure
    expect((await introspectAt(at)).body.active).toBe(true);
    expect((await introspect(d, at)).body.active).toBe(true);
    await outOfMemory();
    try {
      const res = await fetch(d.disco.revocation_endpoint!, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${d.webapp.clientId}:${d.webapp.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: at }),
      });
      expect(res.status).toBe(200);
      // while Redis refuses writes: inactive (SQL answers)
      expect((await introspectAt(at)).body.active).toBe(false);
    } finally {
      await restore();
    }
    expect((await introspectAt(at)).body.active).toBe(false);
    expect((await introspect(d, at)).body.active).toBe(false);
    expect(await d.server.tessera.db.prisma.revokedToken.count({ where: { tenantId: d.tenantId } })).toBeGreaterThan(0);
  });

  it('keeps a revoked grant revoked (refresh token and its access tokens) after the same failure', async () => {
    const signIn = await passwordGrant(d, 'victor', PASSWORDS.victor);
    const at = signIn.body.access_token as string;
    expect((await introspectAt(at)).body.active).toBe(true);
    await outOfMemory();
    try {
      await revoke(signIn.body.refresh_token as string);
    } finally {
      await restore();
    }
    expect((await introspectAt(at)).body.active).toBe(false);
    const refresh = await tokenRequest(d.disco.token_endpoint!, { grant_type: 'refresh_token', refresh_token: signIn.body.refresh_token as string }, d.webapp);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('refuses a revoked admin token at the admin API after the same failure', async () => {
    const signIn = await tokenRequest(`${d.url}/t/dept/token`, { grant_type: 'password', client_id: 'admin-cli', username: 'boss', password: PASSWORDS.boss });
    const token = signIn.body.access_token as string;
    const viaChecker = adminClient(checker, token);
    expect((await viaChecker('GET', '/tenants/dept')).status).toBe(200);
    await outOfMemory();
    try {
      // admin-cli is public: it revokes with its client_id
      const res = await fetch(d.disco.revocation_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: 'admin-cli' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await restore();
    }
    expect((await viaChecker('GET', '/tenants/dept')).status).toBe(401);
    expect((await adminClient(d.url, token)('GET', '/tenants/dept')).status).toBe(401);
  });
});
