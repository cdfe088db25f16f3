/**
 * Time travel for the brute-force counters of src/security/login-guard.ts, which live in the store
 * (Redis, or the in-process store): a test reads how long a lock has left, ends it as if its time
 * had run out, or holds it while it checks what a locked caller is told, instead of waiting
 * seconds to minutes. The key names are the guard's (`bf:a:<tenant>:<digest of the address>`,
 * `bf:u:<tenant>:<digest of the username key>`) in each backend's layout (memory: `<key>:n` /
 * `<key>:l`; Redis: `{<key>}:n` / `{<key>}:l`, one hash slot). A wrong name reads as "no lock",
 * so a test relying on it fails rather than passes.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../../src/store/index.ts';
import { usernameKey } from '../../src/security/usernames.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 32);

export type LockScope = 'address' | 'account';

export function guardKeys(store: Store, tenantId: string, scope: LockScope, value: string): { count: string; lock: string } {
  const key = scope === 'address' ? `bf:a:${tenantId}:${digest(value)}` : `bf:u:${tenantId}:${digest(usernameKey(value))}`;
  return store.kind === 'redis' ? { count: `{${key}}:n`, lock: `{${key}}:l` } : { count: `${key}:n`, lock: `${key}:l` };
}

export function loginLocks(store: Store, tenantId: string) {
  return {
    /** milliseconds the lock has left (0: not locked) */
    left: (scope: LockScope, value: string) => store.ttl(guardKeys(store, tenantId, scope, value).lock),
    /** the failures counted in the current window */
    count: async (scope: LockScope, value: string) => Number((await store.get(guardKeys(store, tenantId, scope, value).count)) ?? 0),
    /** the lock's time runs out now (the count stays, as it does when a lock ends by itself) */
    expire: (scope: LockScope, value: string) => store.delete(guardKeys(store, tenantId, scope, value).lock),
    /** the lock is held for `ms` from now (so a slow machine cannot see it run out mid-check) */
    hold: (scope: LockScope, value: string, ms: number) => store.set(guardKeys(store, tenantId, scope, value).lock, '1', ms),
  };
}
