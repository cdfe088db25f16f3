/**
 * README promises (Tokens → Rate limits; Scaling out; Failure behaviour): the token-endpoint rate
 * limits are counted in hourly windows shared through Redis, so two instances on one PostgreSQL
 * database and one Redis enforce one budget; while Redis is unreachable the limits are not
 * enforced (client_credentials keeps working) and sign-ins answer 503; once Redis is back they
 * are enforced again. Two in-process instances (each its own pool, store connection and
 * tenant cache, sharing only PostgreSQL and a private redis-server this file can stop).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { privateRedis, type PrivateRedis } from '../helpers/infra.ts';
import { tokenRequest, type TokenResponse } from '../helpers/oauth.ts';
import { createPostgresDatabase, TEST_ENV, type TestDatabase } from '../helpers/tessera.ts';
import { API, eventually, PASSWORDS, requiredUrl, type Credentials } from '../helpers/department.ts';

const HOUR_MS = 3600_000;
const CLIENT_LIMIT = 4;
const TENANT_LIMIT = 12;

/** a test's requests must all fall in one hourly window: wait for the next one when this one ends soon */
async function clearOfHourBoundary(needMs = 60_000): Promise<void> {
  const left = HOUR_MS - (Date.now() % HOUR_MS);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 1000));
}
const secondsToNextWindow = () => Math.ceil((HOUR_MS - (Date.now() % HOUR_MS)) / 1000);

describe('rate limits shared by two instances on one PostgreSQL and one Redis', () => {
  let db: TestDatabase | undefined;
  let redis: PrivateRedis | undefined;
  const instances: Tessera[] = [];
  let limited: Credentials;
  let unlimited: Credentials;
  let staff: Credentials;
  let tenantWide: Credentials;
  let tenantIds: { shared: string; busy: string };

  const token = (i: number, tenant: string, form: Record<string, string>, auth: Credentials): Promise<TokenResponse> =>
    tokenRequest(`http://127.0.0.1:${instances[i]!.port}/t/${tenant}/token`, form, auth);
  const cc = (i: number, auth: Credentials, tenant = 'shared') => token(i, tenant, { grant_type: 'client_credentials' }, auth);
  const expectLimited = (res: TokenResponse) => {
    expect(res.status, JSON.stringify(res.body)).toBe(429);
    expect(res.body.error).toBe('too_many_requests');
    expect(typeof res.body.error_description).toBe('string');
    expect(res.body.access_token).toBeUndefined();
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    // the end of the hourly window
    expect(Math.abs(retryAfter - secondsToNextWindow())).toBeLessThanOrEqual(2);
  };

  beforeAll(async () => {
    requiredUrl('TEST_DATABASE_URL');
    redis = await privateRedis();
    await redis.start();
    db = await createPostgresDatabase();
    const env = { ...TEST_ENV, ...db.env, REDIS_URL: redis.url, PUBLIC_URL: 'http://tessera.test', TENANT_RATE_LIMIT_PER_HOUR: String(TENANT_LIMIT) };
    instances.push(await startTessera(loadConfig(env)));
    instances.push(await startTessera(loadConfig(env)));
    const { services } = instances[0]!;
    const shared = await services.tenants.create({ slug: 'shared', name: 'Shared' });
    const busy = await services.tenants.create({ slug: 'busy', name: 'Busy' });
    tenantIds = { shared: shared.id, busy: busy.id };
    for (const t of [shared, busy]) {
      const s = services.forTenant(t.id);
      await s.resources.create({ audience: API, name: 'API', scopes: ['outbreaks:read'] });
      await s.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    }
    const s = services.forTenant(shared.id);
    await s.users.create({ username: 'alice', password: PASSWORDS.alice, roles: ['viewer'] });
    limited = (await s.clients.create({
      name: 'plan 4/h',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
      rateLimitPerHour: CLIENT_LIMIT,
    })) as Credentials;
    unlimited = (await s.clients.create({ name: 'no plan', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API })) as Credentials;
    staff = (await s.clients.create({ name: 'staff app', grantTypes: ['password'], defaultResource: API })) as Credentials;
    tenantWide = (await services
      .forTenant(busy.id)
      .clients.create({ name: 'busy job', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API })) as Credentials;
  });
  afterAll(async () => {
    for (const t of instances) await t.close();
    await redis?.stop();
    await db?.drop();
  });

  // README: "**Rate limits**: per client (`rateLimitPerHour`, set through the admin API, e.g. plans
  // of 100 / 1,000 / 10,000 an hour) and per tenant (`TENANT_RATE_LIMIT_PER_HOUR`), in hourly
  // windows shared through Redis: `429 too_many_requests` with `Retry-After`."
  it("counts a client's rateLimitPerHour across both instances", async () => {
    await clearOfHourBoundary();
    // alternating: each instance alone has seen only half of them
    for (const i of [0, 1, 0, 1]) {
      const res = await cc(i, limited);
      expect(res.status, `request on instance ${i}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    expectLimited(await cc(0, limited));
    expectLimited(await cc(1, limited));
    // the count lives in Redis, for the client in this window (refused requests count too)
    const client = new Redis(redis!.url);
    try {
      const window = Math.floor(Date.now() / HOUR_MS);
      expect(Number(await client.get(`tessera:rl:c:${tenantIds.shared}:${limited.clientId}:${window}`))).toBe(CLIENT_LIMIT + 2);
    } finally {
      client.disconnect();
    }
    // another client of the tenant has its own budget
    expect((await cc(1, unlimited)).status).toBe(200);
  });

  it('counts TENANT_RATE_LIMIT_PER_HOUR across both instances', async () => {
    await clearOfHourBoundary();
    for (let n = 0; n < TENANT_LIMIT; n++) {
      const res = await cc(n % 2, tenantWide, 'busy');
      expect(res.status, `request ${n + 1} on instance ${n % 2}`).toBe(200);
    }
    expectLimited(await cc(0, tenantWide, 'busy'));
    expectLimited(await cc(1, tenantWide, 'busy'));
  });

  // README (Failure behaviour): "**Redis unreachable**: … sign-ins answer 503 rather than run
  // without brute-force counters; `client_credentials`, refresh and introspection keep working;
  // rate limits are not enforced meanwhile. ioredis reconnects by itself."
  // README (Tokens): "Without its Redis store a sign-in answers 503 rather than sign in without rate limits."
  it('does not enforce rate limits while Redis is down (sign-ins answer 503), and enforces them again once it is back', async () => {
    await clearOfHourBoundary(120_000);
    // the limited client is over its plan on both instances
    for (let n = 0; n < CLIENT_LIMIT; n++) await cc(n % 2, limited);
    expectLimited(await cc(0, limited));
    expectLimited(await cc(1, limited));

    await redis!.stop();
    await eventually('both instances to see Redis gone', async () =>
      (await Promise.allSettled(instances.map((t) => t.store.ping()))).every((r) => r.status === 'rejected'),
    );

    // not enforced: the client over its plan gets tokens from both instances
    for (const i of [0, 1, 0, 1, 0, 1]) {
      const res = await cc(i, limited);
      expect(res.status, `instance ${i} while Redis is down: ${JSON.stringify(res.body)}`).toBe(200);
      expect(typeof res.body.access_token).toBe('string');
    }
    // a sign-in (password grant) answers 503 + Retry-After rather than run without its counters
    for (const i of [0, 1]) {
      const res = await token(i, 'shared', { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, staff);
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.body.access_token).toBeUndefined();
    }

    // Redis is back (empty: it keeps nothing on disk) and both instances reconnect by themselves
    await redis!.start();
    await eventually(
      'both instances to reconnect to Redis',
      async () => (await Promise.allSettled(instances.map((t) => t.store.ping()))).every((r) => r.status === 'fulfilled'),
      30_000,
    );
    for (const i of [1, 0, 1, 0]) expect((await cc(i, limited)).status, `instance ${i} after Redis came back`).toBe(200);
    expectLimited(await cc(1, limited));
    expectLimited(await cc(0, limited));
    // and sign-ins work again
    expect((await token(0, 'shared', { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, staff)).status).toBe(200);
  }, 180_000);
});
