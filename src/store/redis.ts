/**
 * Redis store backend (ioredis). Commands fail fast while Redis is unreachable (no offline
 * queue) and surface as StoreUnavailableError; ioredis reconnects on its own, so recovery needs
 * no restart.
 */
import { Redis } from 'ioredis';
import { StoreUnavailableError, type Store } from './types.ts';

/**
 * `offlineQueue`: queue commands until connected (one-shot callers such as the CLI); servers keep it
 * off so that an unreachable Redis fails fast instead of piling requests up.
 */
export function createRedisStore(url: string, opts: { prefix?: string; offlineQueue?: boolean } = {}): Store {
  const redis = new Redis(url, {
    keyPrefix: opts.prefix ?? 'tessera:',
    enableOfflineQueue: opts.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // connection errors are reported through failing commands; keep them off stderr
  redis.on('error', () => {});
  // pub/sub needs its own connection; it resubscribes by itself after a reconnect
  const prefix = opts.prefix ?? 'tessera:';
  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  };

  return {
    kind: 'redis',
    increment: (key, ttlMs) =>
      wrap(async () => {
        const res = await redis.multi().incr(key).pexpire(key, ttlMs).exec();
        const [err, value] = res?.[0] ?? [new Error('empty reply'), null];
        if (err) throw err;
        return Number(value);
      }),
    set: (key, value, ttlMs) =>
      wrap(async () => {
        await redis.set(key, value, 'PX', ttlMs);
      }),
    get: (key) => wrap(() => redis.get(key)),
    ttl: (key) =>
      wrap(async () => {
        const ms = await redis.pttl(key);
        return ms > 0 ? ms : 0;
      }),
    delete: (...keys) =>
      wrap(async () => {
        if (keys.length) await redis.del(...keys);
      }),
    publish: (channel, message) =>
      wrap(async () => {
        await redis.publish(`${prefix}${channel}`, message);
      }),
    async subscribe(channel, handler) {
      if (!subscriber) {
        subscriber = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2000) });
        subscriber.on('error', () => {});
        subscriber.on('message', (ch: string, message: string) => {
          for (const h of handlers.get(ch.slice(prefix.length)) ?? []) h(message);
        });
      }
      const set = handlers.get(channel) ?? new Set();
      handlers.set(channel, set);
      set.add(handler);
      await wrap(() => subscriber!.subscribe(`${prefix}${channel}`));
    },
    ping: () =>
      wrap(async () => {
        await redis.ping();
      }),
    async close() {
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}
