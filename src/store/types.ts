/**
 * The store: one interface, two backends (Redis when REDIS_URL is set, in-process otherwise) for
 * short-lived shared state: counters, locks, caches. Nothing durable lives here (Redis keeps
 * nothing on disk): losing the store loses no token, user or revocation.
 */
export interface Store {
  readonly kind: 'memory' | 'redis';
  /** atomically increments `key` and (re)sets its time to live; returns the new value */
  increment(key: string, ttlMs: number): Promise<number>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** milliseconds until `key` expires; 0 when it does not exist */
  ttl(key: string): Promise<number>;
  delete(...keys: string[]): Promise<void>;
  /** fire-and-forget broadcast to every instance (including this one) */
  publish(channel: string, message: string): Promise<void>;
  /** `handler` runs for every message on `channel`, from any instance */
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** the store could not be reached: callers that need it answer 503 rather than guess */
export class StoreUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('shared store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
