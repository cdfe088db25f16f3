/**
 * Redis Cluster through ioredis' Cluster client (issue 5, larger deployments): the store's
 * counters, keys and pub/sub work across a real three-node cluster this test starts, and the
 * features built on them (brute-force counters, revocation mirror, invalidations) do too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/index.ts';
import { privateRedisCluster } from '../helpers/infra.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { PASSWORDS, startDepartment, type Department } from '../signin/fixture.ts';

describe('Redis Cluster', () => {
  let cluster: Awaited<ReturnType<typeof privateRedisCluster>>;
  let store: Store;
  let d: Department;

  beforeAll(async () => {
    cluster = await privateRedisCluster();
    store = createRedisStore(cluster.urls.join(','), { cluster: true, offlineQueue: true });
    d = await startDepartment('postgres', { REDIS_URL: cluster.urls.join(',') });
  });
  afterAll(async () => {
    await d?.server.stop();
    await store?.close();
    await cluster?.stop();
  });

  it('counts, expires and broadcasts across the cluster', async () => {
    // keys land on different nodes (hash slots); every operation is single-key
    const keys = Array.from({ length: 20 }, (_, i) => `test:counter:${i}`);
    for (const k of keys) {
      expect(await store.increment(k, 60_000)).toBe(1);
      expect(await store.increment(k, 60_000)).toBe(2);
      expect(await store.ttl(k)).toBeGreaterThan(50_000);
    }
    await store.set('test:key', 'v', 60_000);
    expect(await store.get('test:key')).toBe('v');
    await store.delete('test:key');
    expect(await store.get('test:key')).toBeNull();
    // take is GETDEL: of 40 parallel takers exactly one gets the value
    await store.set('test:once', 'v', 60_000);
    const taken = await Promise.all(Array.from({ length: 40 }, () => store.take('test:once')));
    expect(taken.filter((v) => v === 'v')).toHaveLength(1);
    expect(await store.get('test:once')).toBeNull();
    // touch renews an existing key only (PEXPIRE)
    expect(await store.touch('test:once', 60_000)).toBe(false);
    expect(await store.get('test:once')).toBeNull();
    await store.set('test:touched', 'v', 1_000);
    expect(await store.touch('test:touched', 60_000)).toBe(true);
    expect(await store.ttl('test:touched')).toBeGreaterThan(50_000);
    const got: string[] = [];
    await store.subscribe('test-channel', (m) => got.push(m));
    await store.publish('test-channel', 'hello');
    await expect.poll(() => got, { timeout: 3000 }).toEqual(['hello']);
  });

  it('serves sign-ins (brute-force counters), revocations and lockouts through the cluster', async () => {
    expect(d.server.tessera.store.kind).toBe('redis');
    const ok = await tokenRequest(d.token, { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, d.webapp);
    expect(ok.status).toBe(200);
    const at = (await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine)).body.access_token as string;
    const auth = {
      authorization: `Basic ${Buffer.from(`${d.machine.clientId}:${d.machine.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    await fetch(`${d.server.url}/t/dept/token/revocation`, { method: 'POST', headers: auth, body: new URLSearchParams({ token: at }) });
    const intro = await fetch(`${d.server.url}/t/dept/token/introspection`, { method: 'POST', headers: auth, body: new URLSearchParams({ token: at }) });
    expect(await intro.json()).toEqual({ active: false });
    let status = 0;
    for (let i = 0; i < 10 && status !== 429; i++) {
      status = (
        await tokenRequest(d.token, { grant_type: 'password', username: 'victor', password: `bad-${i}` }, d.webapp, { 'x-forwarded-for': '203.0.113.99' })
      ).status;
    }
    expect(status).toBe(429);
  });
});
