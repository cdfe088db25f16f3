/**
 * Brute-force protection for sign-ins, per (tenant, client address) and per (tenant, username).
 *
 * An attempt holds a slot on both scopes *before* the password is verified, in one atomic step with
 * the lock check (store.reserveAttempt: a Lua script on Redis, one synchronous step in process),
 * and is settled once its outcome is known: a wrong password is counted as a failure, anything else
 * (a success, or an attempt never evaluated because the other scope was locked, argon2 was
 * overloaded or the database failed) only releases its slot. The slots open at once are what is
 * left of the allowance, so the allowance is a hard bound whatever the concurrency: 40 parallel
 * guesses from a fresh address get 5 verifications, not 17–34 as when the lock was checked before
 * argon2 and the failure counted after. Parallel sign-ins that are right (staff behind one NAT
 * address at nine in the morning) are not refused: an attempt that finds every slot held waits for
 * one (up to `waitMs`), and a success never counts.
 *
 * The failure that reaches the allowance locks the key for `baseMs`; every later failure (one at a
 * time, once the lock has run out) doubles it, capped at `maxMs`. While locked, attempts are
 * refused without being counted, so hammering a lock never extends it. The per-account limit is
 * softer (more free failures, a short cap) than the per-address one: an attacker failing from one
 * address locks that address, not the real user signing in from another. A successful sign-in
 * clears the account's failures. Counters are keyed by digests of the address and of the normalised
 * username, known or not, so a lock reveals nothing about which users exist and Redis holds no
 * usernames.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AttemptPolicy, Reservation, Store } from '../store/index.ts';
import { usernameKey } from './usernames.ts';

export interface LoginGuardPolicy {
  address: AttemptPolicy;
  account: AttemptPolicy;
  /** how long an attempt waits for a slot held by attempts still under way */
  waitMs: number;
}

export const DEFAULT_LOGIN_POLICY: LoginGuardPolicy = {
  // the 5th failure from an address locks it for 2 s, the 6th for 4 s, … at most 15 min
  address: { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, windowMs: 15 * 60_000 },
  // the 20th failure on one username (from anywhere) locks it for 1 s, … at most 60 s
  account: { free: 20, baseMs: 1_000, maxMs: 60_000, windowMs: 15 * 60_000 },
  waitMs: 5_000,
};

export interface LockState {
  /** seconds until the caller may try again */
  retryAfterSec: number;
  scope: 'address' | 'account';
}

/** an admitted attempt: settle it once its outcome is known */
export interface AttemptTicket {
  /**
   * `failure`: a wrong password, counted; resolves to the lock it started, if any. `success`: the
   * account's failures are cleared. `not_evaluated`: nothing is counted. Settling twice does nothing.
   */
  settle(outcome: 'failure' | 'success' | 'not_evaluated'): Promise<LockState | null>;
}

const SCOPES = ['address', 'account'] as const;
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 32);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createLoginGuard(store: Store, policy: LoginGuardPolicy = DEFAULT_LOGIN_POLICY) {
  const keys = (tenantId: string, username: string, address: string) => ({
    address: `bf:a:${tenantId}:${digest(address)}`,
    account: `bf:u:${tenantId}:${digest(usernameKey(username))}`,
  });
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  /** the longer of two locks (the address's when equal) */
  const longer = (a: LockState | null, b: LockState | null) => (!a ? b : !b ? a : b.retryAfterSec > a.retryAfterSec ? b : a);

  /** one try at holding a slot on both scopes; what was held is released unless both were */
  async function reserve(k: Record<(typeof SCOPES)[number], string>, id: string): Promise<Reservation['state'] | LockState> {
    const settled = await Promise.allSettled(SCOPES.map((scope) => store.reserveAttempt(k[scope], id, policy[scope])));
    const results = settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    if (results.every((r) => r?.state === 'admitted')) return 'admitted';
    // this attempt is not evaluated: the slot it holds on the other scope is released (if that
    // write fails, the slot is released by the store after ATTEMPT_HOLD_MS: never held for good)
    await Promise.all(
      SCOPES.map((scope, i) => (results[i]?.state === 'admitted' ? store.settleAttempt(k[scope], id, 'refund', policy[scope]) : undefined)),
    ).catch(() => {});
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    let lock: LockState | null = null;
    for (const [i, scope] of SCOPES.entries()) {
      const r = results[i]!;
      if (r.state === 'locked') lock = longer(lock, { scope, retryAfterSec: seconds(r.retryAfterMs) });
    }
    return lock ?? 'busy';
  }

  return {
    /**
     * Holds a slot for this attempt on both scopes, waiting up to `waitMs` while attempts under way
     * hold them all; or refuses it (not counted anywhere) while either scope is locked, or when no
     * slot came free in time (`busy`). Throws StoreUnavailableError when the counters cannot be reached.
     */
    async begin(tenantId: string, username: string, address: string): Promise<{ lock: LockState } | { busy: true } | { ticket: AttemptTicket }> {
      const k = keys(tenantId, username, address);
      const id = randomUUID();
      const deadline = Date.now() + policy.waitMs;
      for (;;) {
        const got = await reserve(k, id);
        if (typeof got === 'object') return { lock: got };
        if (got === 'admitted') break;
        if (Date.now() >= deadline) return { busy: true };
        // an evaluation takes tens of milliseconds: look again soon, spread out
        await sleep(10 + Math.random() * 40);
      }
      let done = false;
      return {
        ticket: {
          async settle(outcome) {
            if (done) return null;
            // settled once, even if the store fails now: the caller answers 503 whatever the
            // password was (nothing learned), and the slot is released after ATTEMPT_HOLD_MS
            done = true;
            const [address, account] = await Promise.all([
              store.settleAttempt(k.address, id, outcome === 'failure' ? 'failure' : 'refund', policy.address),
              store.settleAttempt(k.account, id, outcome === 'failure' ? 'failure' : outcome === 'success' ? 'clear' : 'refund', policy.account),
            ]);
            return longer(
              address > 0 ? { scope: 'address', retryAfterSec: seconds(address) } : null,
              account > 0 ? { scope: 'account', retryAfterSec: seconds(account) } : null,
            );
          },
        },
      };
    },
  };
}
export type LoginGuard = ReturnType<typeof createLoginGuard>;
