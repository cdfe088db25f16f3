/** In-process store backend: correct for one process (the embedded default). */
import { EventEmitter } from 'node:events';
import type { Store } from './types.ts';

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
    async ping() {},
    async close() {
      clearInterval(sweeper);
      data.clear();
      bus.removeAllListeners();
    },
  };
}
