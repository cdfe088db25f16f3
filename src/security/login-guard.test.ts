/**
 * The brute-force counter's rules, exactly, on both store backends (the Lua script for Redis and
 * the in-process step must agree): the allowance, the lock the count that reaches it starts, the
 * doubling, the cap, refusals that neither count nor extend the lock, refunds and clearing.
 * Short policies keep real waiting small; the default policy's numbers are asserted on their own.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptPolicy, Store } from '../store/index.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import { requiredUrl } from '../../test/helpers/backends.ts';
import { lockMs } from '../store/types.ts';
import { DEFAULT_LOGIN_POLICY, createLoginGuard } from './login-guard.ts';

const stores: [string, () => Store][] = [['memory', createMemoryStore]];
// npm test runs them on Redis too (a missing Redis fails the file); the mutation run stays in process
if (!process.env.TESSERA_TEST_IN_PROCESS_ONLY) {
  stores.push(['redis', () => createRedisStore(requiredUrl('TEST_REDIS_URL'), { prefix: `tessera-test:${process.pid}:${Date.now()}:`, offlineQueue: true })]);
}

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

/** the memory store, with every settleAttempt recorded and reserveAttempt failing on demand */
function recordingStore(failOn?: (key: string) => boolean) {
  const inner = createMemoryStore();
  const settled: [string, string][] = [];
  const store: Store = {
    ...inner,
    async reserveAttempt(key, policy) {
      if (failOn?.(key)) throw new Error('store down');
      return inner.reserveAttempt(key, policy);
    },
    async settleAttempt(key, outcome, policy) {
      settled.push([key.split(':')[1]!, outcome]);
      return inner.settleAttempt(key, outcome, policy);
    },
  };
  return { store, settled, inner };
}

describe('the login guard settles exactly what each outcome calls for', () => {
  const policy = {
    address: { free: 3, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
    account: { free: 3, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
  };

  it('keys counters by tenant and 32 characters of the SHA-256 of the address and the normalised username', async () => {
    const { store, inner } = recordingStore();
    const seen: string[] = [];
    const spy: Store = { ...store, reserveAttempt: (k, p) => (seen.push(k), inner.reserveAttempt(k, p)) };
    await createLoginGuard(spy, policy).begin('t1', ' Ann ', '192.0.2.1');
    const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 32);
    expect(seen).toEqual([`bf:a:t1:${sha('192.0.2.1')}`, `bf:u:t1:${sha('ann')}`]);
  });

  it('failure: both counts stay', async () => {
    const { store, settled } = recordingStore();
    const r = await createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1');
    if (!('ticket' in r)) throw new Error('refused');
    await r.ticket.settle('failure');
    expect(settled).toEqual([]);
  });

  it('success: the address count is given back and the account cleared, once however often settled', async () => {
    const { store, settled } = recordingStore();
    const r = await createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1');
    if (!('ticket' in r)) throw new Error('refused');
    await r.ticket.settle('success');
    await r.ticket.settle('success');
    await r.ticket.settle('not_evaluated');
    expect(settled).toEqual([
      ['a', 'refund'],
      ['u', 'clear'],
    ]);
  });

  it('not evaluated: both counts are given back', async () => {
    const { store, settled } = recordingStore();
    const r = await createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1');
    if (!('ticket' in r)) throw new Error('refused');
    await r.ticket.settle('not_evaluated');
    expect(settled).toEqual([
      ['a', 'refund'],
      ['u', 'refund'],
    ]);
  });

  it('a store failure on one scope refunds the scope that counted, and the failure propagates', async () => {
    const { store, settled, inner } = recordingStore((k) => k.startsWith('bf:u:'));
    await expect(createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1')).rejects.toThrow('store down');
    expect(settled).toEqual([['a', 'refund']]);
    // the address's counter is back at zero: three more attempts are free
    const guard = createLoginGuard(inner, policy);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await guard.begin('t', `u${i}`, '192.0.2.1'));
    expect(results.map((r) => ('ticket' in r ? r.ticket.lockStarted : 'refused'))).toEqual([null, null, { scope: 'address', retryAfterSec: 60 }]);
  });

  it('a store failure on both scopes refunds nothing', async () => {
    const { store, settled } = recordingStore(() => true);
    await expect(createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1')).rejects.toThrow('store down');
    expect(settled).toEqual([]);
  });

  it('a refusal refunds only the scope that admitted the attempt', async () => {
    const { store, settled } = recordingStore();
    const guard = createLoginGuard(store, { ...policy, account: { ...policy.account, free: 1 } });
    await guard.begin('t', 'ann', '192.0.2.1'); // locks the account
    settled.length = 0;
    expect(await guard.begin('t', 'ann', '192.0.2.2')).toEqual({ lock: { scope: 'account', retryAfterSec: 60 } });
    expect(settled).toEqual([['a', 'refund']]);
  });

  it('when both scopes are locked, the longer lock is reported, whichever scope it is', async () => {
    for (const [addressMs, accountMs, scope, sec] of [
      [30_000, 50_000, 'account', 50],
      [50_000, 30_000, 'address', 50],
    ] as const) {
      const { store, settled } = recordingStore();
      const guard = createLoginGuard(store, {
        address: { free: 1, baseMs: addressMs, maxMs: addressMs, windowMs: 60_000 },
        account: { free: 1, baseMs: accountMs, maxMs: accountMs, windowMs: 60_000 },
      });
      const first = await guard.begin('t', 'ann', '192.0.2.1');
      // the attempt that starts both locks reports the longer one
      expect('ticket' in first && first.ticket.lockStarted).toEqual({ scope, retryAfterSec: sec });
      expect(await guard.begin('t', 'ann', '192.0.2.1')).toEqual({ lock: { scope, retryAfterSec: sec } });
      expect(settled).toEqual([]);
    }
  });

  it('an equal lock on both scopes is reported as the address', async () => {
    const { store } = recordingStore();
    const same = { free: 1, baseMs: 30_000, maxMs: 30_000, windowMs: 60_000 };
    const guard = createLoginGuard(store, { address: same, account: same });
    const first = await guard.begin('t', 'ann', '192.0.2.1');
    expect('ticket' in first && first.ticket.lockStarted).toEqual({ scope: 'address', retryAfterSec: 30 });
    expect(await guard.begin('t', 'ann', '192.0.2.1')).toEqual({ lock: { scope: 'address', retryAfterSec: 30 } });
  });

  it('the default counters are forgotten after 15 minutes without attempts', () => {
    expect(DEFAULT_LOGIN_POLICY.address.windowMs).toBe(900_000);
    expect(DEFAULT_LOGIN_POLICY.account.windowMs).toBe(900_000);
    expect(DEFAULT_LOGIN_POLICY.address.free).toBe(5);
    expect(DEFAULT_LOGIN_POLICY.account.free).toBe(20);
  });
});
