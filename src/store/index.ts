import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import type { Store } from './types.ts';

export type { AttemptPolicy, Reservation, Store } from './types.ts';
export { StoreUnavailableError } from './types.ts';

export function createStore(redisUrl: string | undefined, opts: { offlineQueue?: boolean; cluster?: boolean } = {}): Store {
  return redisUrl ? createRedisStore(redisUrl, opts) : createMemoryStore();
}
