/**
 * Redis store backend (ioredis). Commands fail fast while Redis is unreachable (no offline
 * queue) and surface as StoreUnavailableError; ioredis reconnects on its own, so recovery needs
 * no restart.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ATTEMPT_HOLD_MS, StoreUnavailableError, type Reservation, type Store } from './types.ts';

/**
 * Brute-force counters as single Lua scripts, so that checking the lock and holding a slot are one
 * step on the server whatever the number of instances and requests (the same rules as `lockMs` and
 * `attemptSlots` in types.ts). KEYS: the failures, the lock and the held slots (a sorted set of
 * attempt ids scored by when they are released at the latest), in one hash slot (Redis Cluster).
 * Time is the server's (TIME), the same for every instance.
 */
const RESERVE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {0, left} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
local slots = tonumber(ARGV[1]) - failures
if slots < 1 then slots = 1 end
if redis.call('ZCARD', KEYS[3]) >= slots then return {2, 0} end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return {1, failures}`;
const SETTLE = `
redis.call('ZREM', KEYS[3], ARGV[2])
if ARGV[1] == 'clear' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 0
end
if ARGV[1] ~= 'failure' then return 0 end
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local free = tonumber(ARGV[3])
if failures < free then return 0 end
local e = failures - free
if e > 30 then e = 30 end
local ms = math.floor(math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * (2 ^ e)))
redis.call('SET', KEYS[2], '1', 'PX', ms)
return ms`;

/** store.raise: KEYS[1]; ARGV: the value, the time to live (ms) */
const RAISE = `
local current = tonumber(redis.call('GET', KEYS[1]))
local ttl = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[2])
if current == nil or tonumber(ARGV[1]) > current then
  if ttl > wanted then wanted = ttl end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', wanted)
elseif wanted > ttl then
  redis.call('PEXPIRE', KEYS[1], wanted)
end
return 1`;

interface AttemptCommands {
  tesseraRaise(key: string, value: number, ttlMs: number): Promise<number>;
  tesseraReserve(failures: string, lock: string, held: string, free: number, attemptId: string, holdMs: number): Promise<[number, number]>;
  tesseraSettle(
    failures: string,
    lock: string,
    held: string,
    outcome: string,
    attemptId: string,
    free: number,
    baseMs: number,
    maxMs: number,
    windowMs: number,
  ): Promise<number>;
}

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
  redis.defineCommand('tesseraReserve', { numberOfKeys: 3, lua: RESERVE });
  redis.defineCommand('tesseraSettle', { numberOfKeys: 3, lua: SETTLE });
  redis.defineCommand('tesseraRaise', { numberOfKeys: 1, lua: RAISE });
  const scripts = redis as unknown as AttemptCommands;
  // the keys of a counter in one hash slot
  const counterKeys = (key: string) => [`{${key}}:n`, `{${key}}:l`, `{${key}}:h`] as const;
  // connection errors are reported through failing commands; keep them off stderr
  redis.on('error', () => {});
  // pub/sub needs its own connection; it resubscribes by itself after a reconnect
  const prefix = opts.prefix ?? 'tessera:';
  let subscriber: Redis | Cluster | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  const resubscribed = new Set<() => void>();
  let connectedBefore = false;
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
    raise: (key, value, ttlMs) =>
      wrap(async () => {
        await scripts.tesseraRaise(key, value, Math.round(ttlMs));
      }),
    reserveAttempt: (key, attemptId, p) =>
      wrap(async (): Promise<Reservation> => {
        const [n, l, h] = counterKeys(key);
        const [state, value] = await scripts.tesseraReserve(n, l, h, p.free, attemptId, ATTEMPT_HOLD_MS);
        return state === 1 ? { state: 'admitted', failures: value } : state === 0 ? { state: 'locked', retryAfterMs: value } : { state: 'busy' };
      }),
    settleAttempt: (key, attemptId, outcome, p) =>
      wrap(async () => {
        const [n, l, h] = counterKeys(key);
        return Number(await scripts.tesseraSettle(n, l, h, outcome, attemptId, p.free, p.baseMs, p.maxMs, p.windowMs));
      }),
    get: (key) => wrap(() => redis.get(key)),
    take: (key) => wrap(() => redis.getdel(key)),
    touch: (key, ttlMs) => wrap(async () => (await redis.pexpire(key, Math.max(1, Math.ceil(ttlMs)))) === 1),
    ttl: (key) =>
      wrap(async () => {
        const ms = await redis.pttl(key);
        return Math.max(ms, 0);
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
        // ioredis resubscribes by itself after a reconnect; what was published in between is lost
        subscriber.on('ready', () => {
          if (connectedBefore) for (const h of resubscribed) h();
          connectedBefore = true;
        });
      }
      const set = handlers.get(channel) ?? new Set();
      handlers.set(channel, set);
      set.add(handler);
      await wrap(() => subscriber!.subscribe(`${prefix}${channel}`));
    },
    onResubscribed(handler) {
      resubscribed.add(handler);
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
