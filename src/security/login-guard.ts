/**
 * Brute-force protection for sign-ins. Failures are counted atomically in the store per
 * (tenant, client address) and per (tenant, username); past a free allowance each further failure
 * locks that key for an exponentially growing, capped time. While locked, attempts are refused
 * without being counted, so hammering a lock never extends it. The per-account limit is softer
 * (more free failures, a short cap) than the per-address one: an attacker failing from one
 * address locks that address, not the real user signing in from another.
 * Keys are per username string, known or not, so a lock reveals nothing about which users exist.
 */
import type { Store } from '../store/index.ts';

export interface LimitPolicy {
  /** failures allowed before the first lock */
  free: number;
  /** first lock, doubled with every later failure */
  baseMs: number;
  maxMs: number;
  /** failures are forgotten after this long without a new one */
  windowMs: number;
}

export interface LoginGuardPolicy {
  address: LimitPolicy;
  account: LimitPolicy;
}

export const DEFAULT_LOGIN_POLICY: LoginGuardPolicy = {
  address: { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, windowMs: 15 * 60_000 },
  account: { free: 20, baseMs: 1_000, maxMs: 60_000, windowMs: 15 * 60_000 },
};

export interface LockState {
  /** seconds until the caller may try again */
  retryAfterSec: number;
  scope: 'address' | 'account';
}

export function lockDuration(failures: number, p: LimitPolicy): number {
  if (failures <= p.free) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(30, failures - p.free - 1));
}

export function createLoginGuard(store: Store, policy: LoginGuardPolicy = DEFAULT_LOGIN_POLICY) {
  const keys = (tenantId: string, username: string, address: string) => ({
    address: { fails: `bf:a:${tenantId}:${address}`, lock: `bf:al:${tenantId}:${address}`, p: policy.address },
    account: { fails: `bf:u:${tenantId}:${username.toLowerCase()}`, lock: `bf:ul:${tenantId}:${username.toLowerCase()}`, p: policy.account },
  });

  return {
    /**
     * the lock in force for this attempt (or null), and whether the account has failures on
     * record (only then does a successful sign-in need to clear them); one round trip
     */
    async check(tenantId: string, username: string, address: string): Promise<{ lock: LockState | null; accountFailures: boolean }> {
      const k = keys(tenantId, username, address);
      const [a, u, fails] = await Promise.all([store.ttl(k.address.lock), store.ttl(k.account.lock), store.get(k.account.fails)]);
      const accountFailures = fails !== null;
      if (!a && !u) return { lock: null, accountFailures };
      const lock: LockState = a >= u ? { retryAfterSec: Math.ceil(a / 1000), scope: 'address' } : { retryAfterSec: Math.ceil(u / 1000), scope: 'account' };
      return { lock, accountFailures };
    },
    /** records a failure; returns the lock it started, if any */
    async fail(tenantId: string, username: string, address: string): Promise<LockState | null> {
      const k = keys(tenantId, username, address);
      let started: LockState | null = null;
      for (const scope of ['address', 'account'] as const) {
        const { fails, lock, p } = k[scope];
        const n = await store.increment(fails, p.windowMs);
        const ms = lockDuration(n, p);
        if (ms > 0) {
          await store.set(lock, '1', ms);
          if (!started || Math.ceil(ms / 1000) > started.retryAfterSec) started = { retryAfterSec: Math.ceil(ms / 1000), scope };
        }
      }
      return started;
    },
    /** a successful sign-in clears the account's failures (not the address's) */
    async succeed(tenantId: string, username: string, address: string): Promise<void> {
      const k = keys(tenantId, username, address);
      await store.delete(k.account.fails);
    },
  };
}
export type LoginGuard = ReturnType<typeof createLoginGuard>;
