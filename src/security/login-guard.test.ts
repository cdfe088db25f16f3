/**
 * The brute-force counter's rules, exactly, on both store backends (the Lua script for Redis and
 * the in-process step must agree): the allowance, the lock the count that reaches it starts, the
 * doubling, the cap, refusals that neither count nor extend the lock, refunds and clearing.
 * Short policies keep real waiting small; the default policy's numbers are asserted on their own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptPolicy, Store } from '../store/index.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import { lockMs } from '../store/types.ts';
import { DEFAULT_LOGIN_POLICY, createLoginGuard } from './login-guard.ts';

const stores: [string, () => Store][] = [['memory', createMemoryStore]];
const redisUrl = process.env.TEST_REDIS_URL;
if (redisUrl) stores.push(['redis', () => createRedisStore(redisUrl, { prefix: `tessera-test:${process.pid}:${Date.now()}:`, offlineQueue: true })]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the lock schedule', () => {
  it('is 5 free failures per address then 2 s doubling to 15 min, 20 per account then 1 s doubling to 60 s', () => {
    const a = DEFAULT_LOGIN_POLICY.address;
    expect([4, 5, 6, 7, 8].map((n) => lockMs(n, a))).toEqual([0, 2_000, 4_000, 8_000, 16_000]);
    expect(lockMs(14, a)).toBe(900_000);
    expect(lockMs(200, a)).toBe(900_000);
    const u = DEFAULT_LOGIN_POLICY.account;
    expect([19, 20, 21, 22].map((n) => lockMs(n, u))).toEqual([0, 1_000, 2_000, 4_000]);
    expect(lockMs(26, u)).toBe(60_000);
    expect(lockMs(10_000, u)).toBe(60_000);
  });
});

describe.each(stores)('attempt counters on the %s store', (_name, make) => {
  const store = make();
  afterAll(() => store.close());
  const policy: AttemptPolicy = { free: 3, baseMs: 300, maxMs: 1_000, windowMs: 60_000 };
  let n = 0;
  const key = () => `bf:test:${Date.now()}:${n++}`;

  it('admits the allowance, then refuses without counting until the lock runs out', async () => {
    const k = key();
    const first = [await store.reserveAttempt(k, policy), await store.reserveAttempt(k, policy), await store.reserveAttempt(k, policy)];
    expect(first.map((r) => r.admitted)).toEqual([true, true, true]);
    expect(first.map((r) => (r.admitted ? r.lockMs : -1))).toEqual([0, 0, 300]);
    const refused = await store.reserveAttempt(k, policy);
    expect(refused.admitted).toBe(false);
    expect(refused.admitted ? 0 : refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.admitted ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(300);
    // hammering neither counts nor extends
    for (let i = 0; i < 5; i++) expect((await store.reserveAttempt(k, policy)).admitted).toBe(false);
    await sleep(350);
    // the next attempt is counted as the 4th: it doubles the lock
    const fourth = await store.reserveAttempt(k, policy);
    expect(fourth).toEqual({ admitted: true, count: 4, lockMs: 600 });
    await sleep(650);
    expect(await store.reserveAttempt(k, policy)).toEqual({ admitted: true, count: 5, lockMs: 1_000 });
    await sleep(1_050);
    // capped
    expect(await store.reserveAttempt(k, policy)).toEqual({ admitted: true, count: 6, lockMs: 1_000 });
  });

  it('admits exactly the allowance of 40 parallel attempts', async () => {
    const k = key();
    const results = await Promise.all(Array.from({ length: 40 }, () => store.reserveAttempt(k, policy)));
    expect(results.filter((r) => r.admitted).length).toBe(3);
  });

  it('gives a refunded count back and lifts a lock the count no longer justifies', async () => {
    const k = key();
    for (let i = 0; i < 3; i++) await store.reserveAttempt(k, policy);
    expect((await store.reserveAttempt(k, policy)).admitted).toBe(false);
    await store.settleAttempt(k, 'refund', policy);
    expect(await store.reserveAttempt(k, policy)).toEqual({ admitted: true, count: 3, lockMs: 300 });
    await store.settleAttempt(k, 'clear', policy);
    expect(await store.reserveAttempt(k, policy)).toEqual({ admitted: true, count: 1, lockMs: 0 });
  });

  it('guards a sign-in on both scopes: a locked account refunds the address', async () => {
    const guard = createLoginGuard(store, {
      address: { free: 5, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
      account: { free: 2, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
    });
    const tenant = key();
    const a = await guard.begin(tenant, 'Ann', '192.0.2.1');
    const b = await guard.begin(tenant, 'ann', '192.0.2.2');
    expect('ticket' in a && 'ticket' in b).toBe(true);
    if ('ticket' in b) expect(b.ticket.lockStarted).toEqual({ scope: 'account', retryAfterSec: 60 });
    // the account (case-insensitive) is locked now; the address's count is given back
    const c = await guard.begin(tenant, 'ANN', '192.0.2.1');
    expect(c).toEqual({ lock: { scope: 'account', retryAfterSec: 60 } });
    // 192.0.2.1 has one counted attempt: four more are admitted for other users
    for (let i = 0; i < 4; i++) expect('ticket' in (await guard.begin(tenant, `user${i}`, '192.0.2.1'))).toBe(true);
    expect('lock' in (await guard.begin(tenant, 'user9', '192.0.2.1'))).toBe(true);
    // a success clears the account
    if ('ticket' in b) await b.ticket.settle('success');
    expect('ticket' in (await guard.begin(tenant, 'ann', '192.0.2.3'))).toBe(true);
  });
});
