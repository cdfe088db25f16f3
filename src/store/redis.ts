/**
 * Redis store backend (ioredis). Commands fail fast while Redis is unreachable (no offline
 * queue) and surface as StoreUnavailableError; ioredis reconnects on its own, so recovery needs
 * no restart.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError, type Store } from './types.ts';

/**
 * `offlineQueue`: queue commands until connected (one-shot callers such as the CLI); servers keep it
 * off so that an unreachable Redis fails fast instead of piling requests up.
 */
export interface RedisStoreOptions {
  prefix?: string;
  offlineQueue?: boolean;
  /** `url` is a comma-separated list of seed nodes of a Redis Cluster */
  cluster?: boolean;
}

/** one node (Redis) or a Redis Cluster (ioredis' Cluster client), with the same options */
function connect(url: string, opts: RedisStoreOptions, overrides: RedisOptions = {}): Redis | Cluster {
  const options: RedisOptions = {
    keyPrefix: opts.prefix ?? 'tessera:',
    enableOfflineQueue: opts.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...overrides,
  };
  // one node: commands issued in the same tick (a sign-in's lock checks, introspection's
  // revocation lookups) leave in one write instead of one each. Not for a Cluster, where
  // ioredis' auto-pipelining has had slot-grouping bugs (redis/ioredis#2109)
  if (!opts.cluster) return new Redis(url, { enableAutoPipelining: true, ...options });
  const seeds = url.split(',').map((u) => URL.parse(u.trim())!);
  const first = seeds[0]!;
  const { keyPrefix, enableOfflineQueue, ...redisOptions } = options;
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      keyPrefix,
      enableOfflineQueue,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
      redisOptions: {
        ...redisOptions,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}

export function createRedisStore(url: string, opts: RedisStoreOptions = {}): Store {
  const redis = connect(url, opts);
  // connection errors are reported through failing commands; keep them off stderr
  redis.on('error', () => {});
  // pub/sub needs its own connection; it resubscribes by itself after a reconnect
  const prefix = opts.prefix ?? 'tessera:';
  let subscriber: Redis | Cluster | undefined;
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
        subscriber = connect(url, { ...opts, prefix: '' }, { enableOfflineQueue: true, maxRetriesPerRequest: null, enableAutoPipelining: false });
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
