/** In-process store backend: correct for one process (the embedded default). */
import { EventEmitter } from 'node:events';
import { lockMs, type Store } from './types.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

export function createMemoryStore(): Store {
  const data = new Map<string, Entry>();
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
    async reserveAttempt(key, policy) {
      // synchronous from here on: one step for this process, like the Lua script for Redis
      const lockLeft = live(`${key}:l`)?.expiresAt;
      const now = Date.now();
      if (lockLeft !== undefined) return { admitted: false, retryAfterMs: lockLeft - now };
      const count = Number(live(`${key}:n`)?.value ?? 0) + 1;
      data.set(`${key}:n`, { value: String(count), expiresAt: now + policy.windowMs });
      const ms = lockMs(count, policy);
      if (ms > 0) data.set(`${key}:l`, { value: '1', expiresAt: now + ms });
      return { admitted: true, count, lockMs: ms };
    },
    async settleAttempt(key, outcome, policy) {
      if (outcome === 'clear') {
        data.delete(`${key}:n`);
        data.delete(`${key}:l`);
        return;
      }
      const entry = live(`${key}:n`);
      const count = Math.max(0, Number(entry?.value ?? 0) - 1);
      if (entry) entry.value = String(count);
      if (count < policy.free) data.delete(`${key}:l`);
    },
    async get(key) {
      return live(key)?.value ?? null;
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
      bus.removeAllListeners();
    },
  };
}
