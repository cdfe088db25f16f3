/**
 * Brute-force protection for sign-ins, per (tenant, client address) and per (tenant, username).
 *
 * Every attempt is counted *before* the password is verified, in one atomic step with the lock
 * check (store.reserveAttempt: a Lua script on Redis, one synchronous step in process). So the
 * allowance is a hard bound whatever the concurrency: 40 parallel guesses from a fresh address get
 * 5 verifications, not 17–34 as when the lock was checked before argon2 and the failure counted
 * after. An attempt that turns out not to be a failed guess gives its count back (`refund`): a
 * successful sign-in from an address, or one that was never evaluated (the other scope was locked,
 * argon2 was overloaded, the database failed). A successful sign-in clears the account's counter.
 *
 * The count that reaches the allowance locks the key for `baseMs`; every later attempt, once the
 * lock has run out, doubles it (capped at `maxMs`). While locked, attempts are refused without
 * being counted, so hammering a lock never extends it. The per-account limit is softer (more free
 * attempts, a short cap) than the per-address one: an attacker failing from one address locks that
 * address, not the real user signing in from another. Counters are keyed by digests of the address
 * and of the normalised username, known or not, so a lock reveals nothing about which users exist
 * and Redis holds no usernames.
 */
import { createHash } from 'node:crypto';
import type { AttemptPolicy, Reservation, Store } from '../store/index.ts';
import { usernameKey } from './usernames.ts';

export interface LoginGuardPolicy {
  address: AttemptPolicy;
  account: AttemptPolicy;
}

export const DEFAULT_LOGIN_POLICY: LoginGuardPolicy = {
  // the 5th failure from an address locks it for 2 s, the 6th for 4 s, … at most 15 min
  address: { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, windowMs: 15 * 60_000 },
  // the 20th failure on one username (from anywhere) locks it for 1 s, … at most 60 s
  account: { free: 20, baseMs: 1_000, maxMs: 60_000, windowMs: 15 * 60_000 },
};

export interface LockState {
  /** seconds until the caller may try again */
  retryAfterSec: number;
  scope: 'address' | 'account';
}

/** an admitted attempt: settle it once its outcome is known */
export interface AttemptTicket {
  /** the lock this attempt started for the attempts after it, if any (reported when it fails) */
  readonly lockStarted: LockState | null;
  /**
   * `failure`: a wrong password (it stays counted); `success`: the address's count is given back
   * and the account's cleared; `not_evaluated`: both counts are given back.
   */
  settle(outcome: 'failure' | 'success' | 'not_evaluated'): Promise<void>;
}

const SCOPES = ['address', 'account'] as const;
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 32);

export function createLoginGuard(store: Store, policy: LoginGuardPolicy = DEFAULT_LOGIN_POLICY) {
  const keys = (tenantId: string, username: string, address: string) => ({
    address: `bf:a:${tenantId}:${digest(address)}`,
    account: `bf:u:${tenantId}:${digest(usernameKey(username))}`,
  });
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

  return {
    /**
     * Counts this attempt on both scopes, or refuses it (not counted anywhere) while either is
     * locked. Throws StoreUnavailableError when the counters cannot be reached.
     */
    async begin(tenantId: string, username: string, address: string): Promise<{ lock: LockState } | { ticket: AttemptTicket }> {
      const k = keys(tenantId, username, address);
      const settled = await Promise.allSettled(SCOPES.map((scope) => store.reserveAttempt(k[scope], policy[scope])));
      const results = settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      const refund = (which: (r: Reservation | undefined) => boolean) =>
        Promise.all(SCOPES.map((scope, i) => (which(results[i]) ? store.settleAttempt(k[scope], 'refund', policy[scope]) : undefined)));

      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await refund((r) => r?.admitted === true).catch(() => {});
        throw failed.reason;
      }
      const refused = SCOPES.map((scope, i) => ({ scope, r: results[i]! })).filter((x) => !x.r.admitted);
      if (refused.length) {
        // one scope locked: the other one's count is given back (this attempt is not evaluated)
        await refund((r) => r?.admitted === true).catch(() => {});
        const longest = refused.reduce((a, b) => (retryMs(b.r) > retryMs(a.r) ? b : a));
        return { lock: { scope: longest.scope, retryAfterSec: seconds(retryMs(longest.r)) } };
      }
      let lockStarted: LockState | null = null;
      for (const [i, scope] of SCOPES.entries()) {
        const r = results[i]!;
        const ms = r.admitted ? r.lockMs : 0;
        if (ms > 0 && (!lockStarted || seconds(ms) > lockStarted.retryAfterSec)) lockStarted = { scope, retryAfterSec: seconds(ms) };
      }
      let done = false;
      return {
        ticket: {
          lockStarted,
          async settle(outcome) {
            if (done) return;
            done = true;
            if (outcome === 'failure') return;
            await Promise.all([
              store.settleAttempt(k.address, 'refund', policy.address),
              store.settleAttempt(k.account, outcome === 'success' ? 'clear' : 'refund', policy.account),
            ]);
          },
        },
      };
    },
  };
}
export type LoginGuard = ReturnType<typeof createLoginGuard>;

const retryMs = (r: Reservation) => (r.admitted ? 0 : r.retryAfterMs);
