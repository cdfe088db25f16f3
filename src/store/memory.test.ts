/**
 * The in-process store (the embedded default) keeps the Store contract of store/types.ts exactly:
 * counters and their time to live, raise-only values, expiry at the millisecond, the brute-force
 * counter's refund/clear, delete, publish/subscribe, close. The clock is vi's fake Date, so expiry
 * is tested at its boundary without waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from './memory.ts';
import { StoreUnavailableError, type AttemptPolicy, type Store } from './types.ts';

const T0 = new Date('2026-11-29T12:00:00Z').getTime();
const at = (ms: number) => vi.setSystemTime(T0 + ms);

let store: Store;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
  at(0);
  store = createMemoryStore();
});
afterEach(async () => {
  await store.close();
  vi.useRealTimers();
});

describe('the in-process store', () => {
  it('is the memory kind', () => {
    expect(store.kind).toBe('memory');
  });

  it('counts from 1 and renews the time to live at every increment', async () => {
    expect(await store.increment('c', 1_000)).toBe(1);
    expect(await store.increment('c', 1_000)).toBe(2);
    expect(await store.get('c')).toBe('2');
    at(900);
    expect(await store.increment('c', 1_000)).toBe(3);
    expect(await store.ttl('c')).toBe(1_000);
    at(1_899);
    expect(await store.get('c')).toBe('3');
    at(1_900);
    // expired exactly at its time to live: counting starts over
    expect(await store.get('c')).toBeNull();
    expect(await store.increment('c', 1_000)).toBe(1);
  });

  it('expires a value exactly when its time to live has passed, and reports what is left', async () => {
    await store.set('k', 'v', 500);
    expect(await store.ttl('k')).toBe(500);
    at(499);
    expect(await store.get('k')).toBe('v');
    expect(await store.ttl('k')).toBe(1);
    at(500);
    expect(await store.get('k')).toBeNull();
    expect(await store.ttl('k')).toBe(0);
    expect(await store.ttl('never-set')).toBe(0);
  });

  it('raises a number and its time to live, never lowers either', async () => {
    await store.raise('r', 5, 1_000);
    expect(await store.get('r')).toBe('5');
    await store.raise('r', 3, 100);
    expect(await store.get('r')).toBe('5');
    expect(await store.ttl('r')).toBe(1_000);
    await store.raise('r', 9, 2_000);
    expect(await store.get('r')).toBe('9');
    expect(await store.ttl('r')).toBe(2_000);
    // a negative first value is kept as it is (nothing to compare with)
    await store.raise('neg', -4, 1_000);
    expect(await store.get('neg')).toBe('-4');
    // once expired, the old value no longer holds the new one down
    at(2_000);
    await store.raise('r', 1, 1_000);
    expect(await store.get('r')).toBe('1');
  });

  it('takes a value once: read and deleted in one step, of 40 parallel takers exactly one gets it', async () => {
    await store.set('once', 'v', 1_000);
    const got = await Promise.all(Array.from({ length: 40 }, () => store.take('once')));
    expect(got.filter((v) => v === 'v')).toHaveLength(1);
    expect(got.filter((v) => v === null)).toHaveLength(39);
    expect(await store.get('once')).toBeNull();
    await store.set('late', 'v', 1_000);
    at(1_000);
    expect(await store.take('late')).toBeNull();
  });

  it('touches only a key that exists: a new time to live, never a re-created key', async () => {
    await store.set('t', 'v', 1_000);
    at(900);
    expect(await store.touch('t', 1_000)).toBe(true);
    at(1_800);
    expect(await store.get('t')).toBe('v');
    at(1_900);
    expect(await store.get('t')).toBeNull();
    expect(await store.touch('t', 1_000)).toBe(false);
    expect(await store.get('t')).toBeNull();
  });

  it('deletes every key it is given', async () => {
    await store.set('a', '1', 1_000);
    await store.set('b', '2', 1_000);
    await store.set('c', '3', 1_000);
    await store.delete('a', 'b');
    expect([await store.get('a'), await store.get('b'), await store.get('c')]).toEqual([null, null, '3']);
  });

  it('delivers a published message to every subscriber of its channel, and no other', async () => {
    const one: string[] = [];
    const two: string[] = [];
    const other: string[] = [];
    await store.subscribe('ch', (m) => one.push(m));
    await store.subscribe('ch', (m) => two.push(m));
    await store.subscribe('other', (m) => other.push(m));
    await store.publish('ch', 'hello');
    expect(one).toEqual(['hello']);
    expect(two).toEqual(['hello']);
    expect(other).toEqual([]);
  });

  it('forgets data and subscribers when closed, and stops its sweeper', async () => {
    const got: string[] = [];
    await store.subscribe('ch', (m) => got.push(m));
    await store.set('k', 'v', 60_000);
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(await store.get('k')).toBeNull();
    await store.publish('ch', 'late');
    expect(got).toEqual([]);
  });

  it('sweeps expired entries every minute, and only those', async () => {
    await store.set('short', 'x', 1_000);
    await store.set('long', 'y', 120_000);
    await store.set('edge', 'z', 60_000);
    // the sweeper runs at 60 s; the key is checked through ttl, which would also drop it, so look at
    // the map through a second, unexpired key's presence and the first one's absence after the tick
    vi.advanceTimersByTime(60_000);
    expect(await store.get('long')).toBe('y');
    // the sweeper removed the expired ones without anyone reading them
    vi.setSystemTime(T0); // back in time: a key still in the map would look live again
    expect(await store.get('short')).toBeNull();
    expect(await store.get('edge')).toBeNull();
    expect(await store.get('long')).toBe('y');
  });

  it('lives without the network: ping always answers, resubscription never happens', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    expect(() => store.onResubscribed(() => {})).not.toThrow();
  });
});

describe('the brute-force counter in process', () => {
  const policy: AttemptPolicy = { free: 2, baseMs: 1_000, maxMs: 4_000, windowMs: 10_000 };
  const fail = async (k: string, id: string, p = policy) => {
    expect((await store.reserveAttempt(k, id, p)).state).toBe('admitted');
    return store.settleAttempt(k, id, 'failure', p);
  };

  it('locks at the allowance for exactly the lock time, and not a millisecond longer', async () => {
    expect(await fail('k', 'a')).toBe(0);
    expect(await store.get('k:l')).toBeNull();
    expect(await fail('k', 'b')).toBe(1_000);
    expect(await store.get('k:l')).toBe('1');
    at(999);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'locked', retryAfterMs: 1 });
    at(1_000);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'admitted', failures: 2 });
    expect(await store.settleAttempt('k', 'c', 'failure', policy)).toBe(2_000);
  });

  it('forgets the failures after the window without a new one', async () => {
    const p = { ...policy, free: 5 };
    await fail('k', 'a', p);
    expect(await store.ttl('k:n')).toBe(10_000);
    at(5_000);
    await fail('k', 'b', p);
    expect(await store.ttl('k:n')).toBe(10_000);
    at(14_999);
    expect(await store.reserveAttempt('k', 'c', p)).toEqual({ state: 'admitted', failures: 2 });
    at(15_000);
    expect(await store.reserveAttempt('k', 'd', p)).toEqual({ state: 'admitted', failures: 0 });
  });

  it('releases a slot whose attempt never settled after 30 s (its process died)', async () => {
    expect((await store.reserveAttempt('k', 'a', policy)).state).toBe('admitted');
    expect((await store.reserveAttempt('k', 'b', policy)).state).toBe('admitted');
    at(29_999);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'busy' });
    at(30_000);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'admitted', failures: 0 });
  });

  it('the sweeper keeps slots still held', async () => {
    // (setSystemTime would shift the sweeper's schedule with the clock: advance instead)
    vi.advanceTimersByTime(59_000);
    expect((await store.reserveAttempt('k', 'a', policy)).state).toBe('admitted');
    expect((await store.reserveAttempt('k', 'b', policy)).state).toBe('admitted');
    vi.advanceTimersByTime(1_000); // the sweep at 60 s (the slots are held until 89 s)
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'busy' });
    vi.advanceTimersByTime(29_000);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'admitted', failures: 0 });
  });

  it('the sweeper drops released-by-time slots of counters nobody asks about', async () => {
    expect((await store.reserveAttempt('k', 'a', policy)).state).toBe('admitted');
    expect((await store.reserveAttempt('k', 'b', policy)).state).toBe('admitted');
    vi.advanceTimersByTime(60_000);
    // back in time: slots still held would make the counter busy
    vi.setSystemTime(T0);
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'admitted', failures: 0 });
  });

  it('a refund only frees the slot; a clear also forgets the failures and the lock', async () => {
    await fail('k', 'a');
    expect((await store.reserveAttempt('k', 'b', policy)).state).toBe('admitted');
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'busy' });
    expect(await store.settleAttempt('k', 'b', 'refund', policy)).toBe(0);
    expect(await store.get('k:n')).toBe('1');
    expect(await store.reserveAttempt('k', 'c', policy)).toEqual({ state: 'admitted', failures: 1 });
    expect(await store.settleAttempt('k', 'c', 'failure', policy)).toBe(1_000);
    expect(await store.settleAttempt('k', 'zz', 'clear', policy)).toBe(0);
    expect(await store.get('k:n')).toBeNull();
    expect(await store.get('k:l')).toBeNull();
    // settling what was never held changes nothing
    expect(await store.settleAttempt('none', 'x', 'refund', policy)).toBe(0);
    expect(await store.get('none:n')).toBeNull();
  });
});

describe('StoreUnavailableError', () => {
  it('names itself and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new StoreUnavailableError(cause);
    expect(err.name).toBe('StoreUnavailableError');
    expect(err.message).toBe('shared store unavailable');
    expect(err.cause).toBe(cause);
  });
});
