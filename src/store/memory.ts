/** In-process store backend: correct for one process (the embedded default). */
import { EventEmitter } from 'node:events';
import { ATTEMPT_HOLD_MS, attemptSlots, lockMs, type Store } from './types.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

export function createMemoryStore(): Store {
  const data = new Map<string, Entry>();
  /** per counter: the attempts under way and when their slot is released at the latest */
  const held = new Map<string, Map<string, number>>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const live = (key: string): Entry | undefined => {
    const e = data.get(key);
    if (e && e.expiresAt <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return e;
  };
  // expired entries are also dropped periodically so an idle key does not stay forever
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [k, e] of data) if (e.expiresAt <= now) data.delete(k);
    for (const [k, slots] of held) {
      for (const [id, until] of slots) if (until <= now) slots.delete(id);
      if (!slots.size) held.delete(k);
    }
  }, 60_000);
  sweeper.unref();

  return {
    kind: 'memory',
    async increment(key, ttlMs) {
      const next = Number(live(key)?.value ?? 0) + 1;
      data.set(key, { value: String(next), expiresAt: Date.now() + ttlMs });
      return next;
    },
    async set(key, value, ttlMs) {
      data.set(key, { value, expiresAt: Date.now() + ttlMs });
    },
    async raise(key, value, ttlMs) {
      const e = live(key);
      const expiresAt = Math.max(e?.expiresAt ?? 0, Date.now() + ttlMs);
      data.set(key, { value: String(Math.max(value, Number(e?.value ?? -Infinity))), expiresAt });
    },
    async reserveAttempt(key, attemptId, policy) {
      // synchronous from here on: one step for this process, like the Lua script for Redis
      const now = Date.now();
      const lock = live(`${key}:l`);
      if (lock) return { state: 'locked', retryAfterMs: lock.expiresAt - now };
      const slots = held.get(key) ?? new Map<string, number>();
      for (const [id, until] of slots) if (until <= now) slots.delete(id);
      const failures = Number(live(`${key}:n`)?.value ?? 0);
      if (slots.size >= attemptSlots(failures, policy)) return { state: 'busy' };
      held.set(key, slots.set(attemptId, now + ATTEMPT_HOLD_MS));
      return { state: 'admitted', failures };
    },
    async settleAttempt(key, attemptId, outcome, policy) {
      const slots = held.get(key);
      slots?.delete(attemptId);
      if (slots && !slots.size) held.delete(key);
      if (outcome === 'clear') {
        data.delete(`${key}:n`);
        data.delete(`${key}:l`);
        return 0;
      }
      if (outcome === 'refund') return 0;
      const now = Date.now();
      const failures = Number(live(`${key}:n`)?.value ?? 0) + 1;
      data.set(`${key}:n`, { value: String(failures), expiresAt: now + policy.windowMs });
      const ms = lockMs(failures, policy);
      if (ms > 0) data.set(`${key}:l`, { value: '1', expiresAt: now + ms });
      return ms;
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async touch(key, ttlMs) {
      const e = live(key);
      if (!e) return false;
      e.expiresAt = Date.now() + ttlMs;
      return true;
    },
    async take(key) {
      const value = live(key)?.value ?? null;
      data.delete(key);
      return value;
    },
    async ttl(key) {
      const e = live(key);
      return e ? e.expiresAt - Date.now() : 0;
    },
    async delete(...keys) {
      for (const k of keys) data.delete(k);
    },
    async publish(channel, message) {
      bus.emit(channel, message);
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
    },
    // in process, nothing is ever missed
    onResubscribed() {},
    async ping() {},
    async close() {
      clearInterval(sweeper);
      data.clear();
      held.clear();
      bus.removeAllListeners();
    },
  };
}
