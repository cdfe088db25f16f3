/**
 * The store: one interface, two backends (Redis when REDIS_URL is set, in-process otherwise) for
 * short-lived shared state: counters, locks, caches. Nothing durable lives here (Redis keeps
 * nothing on disk): losing the store loses no token, user or revocation.
 */
/**
 * A brute-force counter (security/login-guard.ts). An attempt holds one of the allowance's slots
 * *before* the work it guards, atomically with the lock check, and its outcome is settled after:
 * no number of parallel requests gets more guesses evaluated than the allowance, and parallel
 * attempts that turn out right (a department's staff behind one address) wait for a slot instead
 * of being refused.
 */
export interface AttemptPolicy {
  /** failures before the first lock: the one that reaches this count starts it */
  free: number;
  /** the first lock; each later failure doubles it */
  baseMs: number;
  maxMs: number;
  /** the failures are forgotten after this long without a new one */
  windowMs: number;
}

export type Reservation =
  /** a slot is held for this attempt (settle it); `failures` were counted before it */
  | { state: 'admitted'; failures: number }
  /** refused, not counted: the lock has this long to run */
  | { state: 'locked'; retryAfterMs: number }
  /** every slot is held by an attempt still being evaluated: try again in a moment */
  | { state: 'busy' };

/** a held slot is released by its settlement, or after this long (its process died) */
export const ATTEMPT_HOLD_MS = 30_000;

/** lock length after `failures` counted failures (0 below the allowance), as every backend applies it */
export function lockMs(failures: number, p: AttemptPolicy): number {
  if (failures < p.free) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(30, failures - p.free));
}

/** slots open to attempts under way: what is left of the allowance, one at a time beyond it */
export const attemptSlots = (failures: number, p: AttemptPolicy) => Math.max(1, p.free - failures);

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
   * One atomic step on the counter `key`: refused while its lock runs; busy while attempts under
   * way hold every slot (`attemptSlots`); otherwise a slot is held for `attemptId`.
   */
  reserveAttempt(key: string, attemptId: string, policy: AttemptPolicy): Promise<Reservation>;
  /**
   * Releases `attemptId`'s slot. `failure`: counted, and the lock set for `lockMs(failures)`
   * (returned; 0 when none starts). `refund`: not counted (it succeeded, or was never evaluated).
   * `clear`: the failures and the lock are forgotten.
   */
  settleAttempt(key: string, attemptId: string, outcome: 'failure' | 'refund' | 'clear', policy: AttemptPolicy): Promise<number>;
  get(key: string): Promise<string | null>;
  /** sets the time to live of `key` if it exists (never re-creates it); false when it does not */
  touch(key: string, ttlMs: number): Promise<boolean>;
  /** reads and deletes `key` in one atomic step: of parallel callers, exactly one gets the value */
  take(key: string): Promise<string | null>;
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
