/**
 * The brute-force counter's rules, exactly, on both store backends (the Lua script for Redis and
 * the in-process step must agree): slots held before the work, the allowance, the lock the failure
 * that reaches it starts, the doubling, the cap, refusals that neither count nor extend the lock,
 * attempts that wait for a slot instead of being refused, refunds and clearing.
 * Short policies keep real waiting small; the default policy's numbers are asserted on their own.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptPolicy, Store } from '../store/index.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import { requiredUrl } from '../../test/helpers/backends.ts';
import { ATTEMPT_HOLD_MS, attemptSlots, lockMs } from '../store/types.ts';
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

  it('opens what is left of the allowance to attempts under way, then one at a time', () => {
    const a = DEFAULT_LOGIN_POLICY.address;
    expect([0, 1, 4, 5, 6, 50].map((n) => attemptSlots(n, a))).toEqual([5, 4, 1, 1, 1, 1]);
    expect(DEFAULT_LOGIN_POLICY.waitMs).toBe(5_000);
    expect(ATTEMPT_HOLD_MS).toBe(30_000);
  });
});

describe.each(stores)('attempt counters on the %s store', (_name, make) => {
  const store = make();
  afterAll(() => store.close());
  const policy: AttemptPolicy = { free: 3, baseMs: 300, maxMs: 1_000, windowMs: 60_000 };
  let n = 0;
  const key = () => `bf:test:${Date.now()}:${n++}`;
  const fail = async (k: string, id: string) => {
    expect((await store.reserveAttempt(k, id, policy)).state).toBe('admitted');
    return store.settleAttempt(k, id, 'failure', policy);
  };

  it('counts failures: the one that reaches the allowance locks, refusals neither count nor extend, each later failure doubles up to the cap', async () => {
    const k = key();
    expect(await store.reserveAttempt(k, 'a1', policy)).toEqual({ state: 'admitted', failures: 0 });
    expect(await store.settleAttempt(k, 'a1', 'failure', policy)).toBe(0);
    expect(await fail(k, 'a2')).toBe(0);
    expect(await fail(k, 'a3')).toBe(300);
    const refused = await store.reserveAttempt(k, 'a4', policy);
    expect(refused.state).toBe('locked');
    expect(refused.state === 'locked' && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.state === 'locked' && refused.retryAfterMs).toBeLessThanOrEqual(300);
    // hammering neither counts nor extends
    for (let i = 0; i < 5; i++) expect((await store.reserveAttempt(k, `h${i}`, policy)).state).toBe('locked');
    await sleep(350);
    // beyond the allowance: one at a time, each failure doubling the lock
    expect(await store.reserveAttempt(k, 'a5', policy)).toEqual({ state: 'admitted', failures: 3 });
    expect(await store.reserveAttempt(k, 'a6', policy)).toEqual({ state: 'busy' });
    expect(await store.settleAttempt(k, 'a5', 'failure', policy)).toBe(600);
    await sleep(650);
    expect(await fail(k, 'a7')).toBe(1_000);
    await sleep(1_050);
    // capped
    expect(await fail(k, 'a8')).toBe(1_000);
  });

  it('holds at most the allowance of 40 parallel attempts; the others are busy, not counted', async () => {
    const k = key();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.reserveAttempt(k, `p${i}`, policy)));
    expect(results.filter((r) => r.state === 'admitted').length).toBe(3);
    expect(results.filter((r) => r.state === 'busy').length).toBe(37);
    // a failure already counted narrows the slots for the attempts after it
    const k2 = key();
    await fail(k2, 'f1');
    const more = await Promise.all(Array.from({ length: 40 }, (_, i) => store.reserveAttempt(k2, `q${i}`, policy)));
    expect(more.filter((r) => r.state === 'admitted').length).toBe(2);
  });

  it('frees a slot when an attempt settles any way, counting only failures', async () => {
    const k = key();
    for (const id of ['s1', 's2', 's3']) expect((await store.reserveAttempt(k, id, policy)).state).toBe('admitted');
    expect((await store.reserveAttempt(k, 'x', policy)).state).toBe('busy');
    expect(await store.settleAttempt(k, 's1', 'refund', policy)).toBe(0);
    expect(await store.reserveAttempt(k, 's4', policy)).toEqual({ state: 'admitted', failures: 0 });
    expect(await store.settleAttempt(k, 's2', 'failure', policy)).toBe(0);
    // one failure counted, two attempts under way: the allowance is held
    expect((await store.reserveAttempt(k, 'x', policy)).state).toBe('busy');
    expect(await store.settleAttempt(k, 's3', 'clear', policy)).toBe(0);
    // cleared: no failures, one attempt (s4) under way
    expect(await store.reserveAttempt(k, 's5', policy)).toEqual({ state: 'admitted', failures: 0 });
    // settling an attempt twice, or one never held, frees nothing else
    await store.settleAttempt(k, 's3', 'refund', policy);
    await store.settleAttempt(k, 'never', 'refund', policy);
    expect(await store.reserveAttempt(k, 's6', policy)).toEqual({ state: 'admitted', failures: 0 });
    expect((await store.reserveAttempt(k, 'x', policy)).state).toBe('busy');
  });

  it('clear forgets the failures and lifts the lock', async () => {
    const k = key();
    for (const id of ['c1', 'c2', 'c3']) await fail(k, id);
    expect((await store.reserveAttempt(k, 'x', policy)).state).toBe('locked');
    await store.settleAttempt(k, 'anyone', 'clear', policy);
    expect(await store.reserveAttempt(k, 'c4', policy)).toEqual({ state: 'admitted', failures: 0 });
  });

  it("guards a sign-in on both scopes: a locked account releases the address's slot", async () => {
    const guard = createLoginGuard(store, {
      address: { free: 5, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
      account: { free: 2, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
      waitMs: 1_000,
    });
    const tenant = key();
    const a = await guard.begin(tenant, 'Ann', '192.0.2.1');
    const b = await guard.begin(tenant, 'ann', '192.0.2.2');
    if (!('ticket' in a) || !('ticket' in b)) throw new Error('refused');
    expect(await a.ticket.settle('failure')).toBeNull();
    expect(await b.ticket.settle('failure')).toEqual({ scope: 'account', retryAfterSec: 60 });
    // the account (case-insensitive) is locked now; the attempt holds nothing at the address
    expect(await guard.begin(tenant, 'ANN', '192.0.2.1')).toEqual({ lock: { scope: 'account', retryAfterSec: 60 } });
    // 192.0.2.1 has one failure: four more are admitted for other users, the 5th locks it
    for (let i = 0; i < 4; i++) {
      const t = await guard.begin(tenant, `user${i}`, '192.0.2.1');
      if (!('ticket' in t)) throw new Error(`refused ${i}`);
      expect(await t.ticket.settle('failure')).toEqual(i === 3 ? { scope: 'address', retryAfterSec: 60 } : null);
    }
    expect(await guard.begin(tenant, 'user9', '192.0.2.1')).toEqual({ lock: { scope: 'address', retryAfterSec: 60 } });
  });

  it('lets parallel right passwords from one address through by waiting for slots', async () => {
    const guard = createLoginGuard(store, { address: policy, account: { ...policy, free: 100 }, waitMs: 3_000 });
    const tenant = key();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const begun = await guard.begin(tenant, `staff${i}`, '203.0.113.5');
        if (!('ticket' in begun)) return 'refused';
        await sleep(20); // the verification
        await begun.ticket.settle('success');
        return 'signed in';
      }),
    );
    expect(outcomes).toEqual(Array(10).fill('signed in'));
  });
});

/** the memory store, with every settleAttempt recorded and reserveAttempt failing on demand */
function recordingStore(failOn?: (key: string) => boolean) {
  const inner = createMemoryStore();
  const settled: [string, string][] = [];
  const reserved: string[] = [];
  const store: Store = {
    ...inner,
    async reserveAttempt(key, id, policy) {
      reserved.push(key);
      if (failOn?.(key)) throw new Error('store down');
      return inner.reserveAttempt(key, id, policy);
    },
    async settleAttempt(key, id, outcome, policy) {
      settled.push([key.split(':')[1]!, outcome]);
      return inner.settleAttempt(key, id, outcome, policy);
    },
  };
  return { store, settled, reserved, inner };
}

describe('the login guard settles exactly what each outcome calls for', () => {
  const policy = {
    address: { free: 3, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
    account: { free: 3, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
    waitMs: 200,
  };
  const admitted = async (guard: ReturnType<typeof createLoginGuard>, user = 'ann', address = '192.0.2.1') => {
    const r = await guard.begin('t', user, address);
    if (!('ticket' in r)) throw new Error(`refused: ${JSON.stringify(r)}`);
    return r.ticket;
  };

  it('keys counters by tenant and 32 characters of the SHA-256 of the address and the normalised username', async () => {
    const { store, reserved } = recordingStore();
    await createLoginGuard(store, policy).begin('t1', ' Ann ', '192.0.2.1');
    const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 32);
    expect(reserved).toEqual([`bf:a:t1:${sha('192.0.2.1')}`, `bf:u:t1:${sha('ann')}`]);
  });

  it('failure: counted on both scopes, and the lock it starts is reported', async () => {
    const { store, settled } = recordingStore();
    const guard = createLoginGuard(store, policy);
    expect(await (await admitted(guard)).settle('failure')).toBeNull();
    expect(settled).toEqual([
      ['a', 'failure'],
      ['u', 'failure'],
    ]);
    await (await admitted(guard)).settle('failure');
    expect(await (await admitted(guard)).settle('failure')).toEqual({ scope: 'address', retryAfterSec: 60 });
  });

  it('success: the address slot is released and the account cleared, once however often settled', async () => {
    const { store, settled } = recordingStore();
    const t = await admitted(createLoginGuard(store, policy));
    expect(await t.settle('success')).toBeNull();
    expect(await t.settle('success')).toBeNull();
    expect(await t.settle('failure')).toBeNull();
    expect(settled).toEqual([
      ['a', 'refund'],
      ['u', 'clear'],
    ]);
  });

  it('not evaluated: both slots are released, nothing counted', async () => {
    const { store, settled } = recordingStore();
    const guard = createLoginGuard(store, policy);
    await (await admitted(guard)).settle('not_evaluated');
    expect(settled).toEqual([
      ['a', 'refund'],
      ['u', 'refund'],
    ]);
    // nothing counted: three failures still come before the lock
    for (let i = 0; i < 2; i++) expect(await (await admitted(guard)).settle('failure')).toBeNull();
    expect(await (await admitted(guard)).settle('failure')).not.toBeNull();
  });

  it('a store failure on one scope releases the slot the other held, and the failure propagates', async () => {
    const { store, settled, inner } = recordingStore((k) => k.startsWith('bf:u:'));
    await expect(createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1')).rejects.toThrow('store down');
    expect(settled).toEqual([['a', 'refund']]);
    // the address's slots are all free again: three attempts at once are admitted
    const guard = createLoginGuard(inner, { ...policy, waitMs: 0 });
    const results = await Promise.all([0, 1, 2, 3].map((i) => guard.begin('t', `u${i}`, '192.0.2.1')));
    expect(results.map((r) => ('ticket' in r ? 'ticket' : Object.keys(r)[0]))).toEqual(['ticket', 'ticket', 'ticket', 'busy']);
  });

  it('a store failure on both scopes releases nothing', async () => {
    const { store, settled } = recordingStore(() => true);
    await expect(createLoginGuard(store, policy).begin('t', 'ann', '192.0.2.1')).rejects.toThrow('store down');
    expect(settled).toEqual([]);
  });

  it('a refusal releases only the scope that admitted the attempt', async () => {
    const { store, settled } = recordingStore();
    const guard = createLoginGuard(store, { ...policy, account: { ...policy.account, free: 1 } });
    await (await admitted(guard)).settle('failure'); // locks the account
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
        waitMs: 0,
      });
      // the failure that starts both locks reports the longer one
      expect(await (await admitted(guard)).settle('failure')).toEqual({ scope, retryAfterSec: sec });
      settled.length = 0;
      expect(await guard.begin('t', 'ann', '192.0.2.1')).toEqual({ lock: { scope, retryAfterSec: sec } });
      expect(settled).toEqual([]);
    }
  });

  it('an equal lock on both scopes is reported as the address', async () => {
    const { store } = recordingStore();
    const same = { free: 1, baseMs: 30_000, maxMs: 30_000, windowMs: 60_000 };
    const guard = createLoginGuard(store, { address: same, account: same, waitMs: 0 });
    expect(await (await admitted(guard)).settle('failure')).toEqual({ scope: 'address', retryAfterSec: 30 });
    expect(await guard.begin('t', 'ann', '192.0.2.1')).toEqual({ lock: { scope: 'address', retryAfterSec: 30 } });
  });

  it('a lock found while waiting for a slot ends the wait at once', async () => {
    const { store } = recordingStore();
    const guard = createLoginGuard(store, { ...policy, address: { ...policy.address, free: 1 }, waitMs: 5_000 });
    const first = await admitted(guard);
    const started = Date.now();
    const waiting = guard.begin('t', 'bob', '192.0.2.1');
    await sleep(60);
    await first.settle('failure');
    expect(await waiting).toEqual({ lock: { scope: 'address', retryAfterSec: 60 } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up waiting after waitMs: busy', async () => {
    const { store } = recordingStore();
    const guard = createLoginGuard(store, { ...policy, address: { ...policy.address, free: 1 }, waitMs: 150 });
    const first = await admitted(guard);
    const started = Date.now();
    expect(await guard.begin('t', 'bob', '192.0.2.1')).toEqual({ busy: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await first.settle('success');
    expect('ticket' in (await guard.begin('t', 'bob', '192.0.2.1'))).toBe(true);
  });

  it('the default counters are forgotten after 15 minutes without a failure', () => {
    expect(DEFAULT_LOGIN_POLICY.address.windowMs).toBe(900_000);
    expect(DEFAULT_LOGIN_POLICY.account.windowMs).toBe(900_000);
    expect(DEFAULT_LOGIN_POLICY.address.free).toBe(5);
    expect(DEFAULT_LOGIN_POLICY.account.free).toBe(20);
  });
});
