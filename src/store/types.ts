/**
 * The store: one interface, two backends (Redis when REDIS_URL is set, in-process otherwise) for
 * short-lived shared state: counters, locks, caches. Nothing durable lives here (Redis keeps
 * nothing on disk): losing the store loses no token, user or revocation.
 */
/**
 * A brute-force counter (security/login-guard.ts): attempts are counted *before* the work they
 * guard, atomically with the lock check, so no number of parallel requests gets more than the
 * allowance evaluated.
 */
export interface AttemptPolicy {
  /** attempts admitted before the first lock: the one that reaches this count starts it */
  free: number;
  /** the first lock; each later attempt doubles it */
  baseMs: number;
  maxMs: number;
  /** the count is forgotten after this long without a new attempt */
  windowMs: number;
}

export type Reservation =
  /** counted; `lockMs` > 0 when this attempt started (or doubled) the lock for the next ones */
  | { admitted: true; count: number; lockMs: number }
  /** refused without being counted: the lock has this long to run */
  | { admitted: false; retryAfterMs: number };

/** lock length after `count` counted attempts (0 below the allowance), as every backend applies it */
export function lockMs(count: number, p: AttemptPolicy): number {
  if (count < p.free) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(30, count - p.free));
}

export interface Store {
  readonly kind: 'memory' | 'redis';
  /** atomically increments `key` and (re)sets its time to live; returns the new value */
  increment(key: string, ttlMs: number): Promise<number>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * atomically raises the number at `key` to `value` (never lowers it) and its time to live to
   * `ttlMs` (never shortens it): writers that race, or replay an older value, cannot undo a newer one
   */
  raise(key: string, value: number, ttlMs: number): Promise<void>;
  /**
   * One atomic step on the counter `key`: refused (and not counted) while its lock runs; otherwise
   * counted, and the lock set for `lockMs(count)` when that is above zero.
   */
  reserveAttempt(key: string, policy: AttemptPolicy): Promise<Reservation>;
  /**
   * `refund`: an admitted attempt did not count (it succeeded, or was never evaluated): the count
   * goes down by one, and a lock the count no longer justifies is lifted. `clear`: forget the
   * counter and its lock.
   */
  settleAttempt(key: string, outcome: 'refund' | 'clear', policy: AttemptPolicy): Promise<void>;
  get(key: string): Promise<string | null>;
  /** milliseconds until `key` expires; 0 when it does not exist */
  ttl(key: string): Promise<number>;
  delete(...keys: string[]): Promise<void>;
  /** fire-and-forget broadcast to every instance (including this one) */
  publish(channel: string, message: string): Promise<void>;
  /** `handler` runs for every message on `channel`, from any instance */
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  /**
   * `handler` runs whenever the subscription connection is back after it was lost: messages
   * published meanwhile were missed (pub/sub is fire-and-forget)
   */
  onResubscribed(handler: () => void): void;
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
