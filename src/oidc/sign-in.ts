/**
 * signIn: the one place that checks a username and password, shared by the password grant and
 * the browser login page so that both follow identical rules: the brute-force guard first (a lock
 * refuses without counting), one argon2 verification even for unknown users (no timing oracle),
 * the same failure for unknown, wrong and disabled, audit events, and a rehash when the argon2
 * parameters changed. Failures are oidc-provider errors; each caller presents them its own way.
 */
import { errors } from 'oidc-provider';
import type { TenantRepos } from '../repositories/index.ts';
import type { UserRow } from '../repositories/users.ts';
import type { LoginGuard } from '../security/login-guard.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import { OverloadedError } from '../security/work-limiter.ts';
import { StoreUnavailableError } from '../store/index.ts';
import { TemporarilyUnavailable, TooManyRequests } from './errors.ts';

export interface SignInDeps {
  tenantId: string;
  repos: TenantRepos;
  passwords: PasswordHasher;
  guard: LoginGuard;
}

export interface SignInAttempt {
  username: string;
  password: string;
  /** the caller's address (the brute-force guard counts per address) */
  address: string;
  clientId: string;
  requestId: string | null;
}

export const INVALID_CREDENTIALS = 'invalid username or password';

/**
 * The signed-in user, or throws: InvalidGrant (bad credentials or disabled), TooManyRequests
 * (locked; `retryAfter` seconds), TemporarilyUnavailable (argon2 overloaded or the store down).
 */
export async function signIn(deps: SignInDeps, attempt: SignInAttempt): Promise<UserRow> {
  const { tenantId, repos, passwords, guard } = deps;
  const { username, password, address, clientId, requestId } = attempt;
  const audit = (type: string, actor: string, data: Record<string, string>) =>
    repos.audit.record({ type, actor, target: actor, requestId, data }).catch(() => {});

  let user: UserRow | null;
  try {
    const { lock, accountFailures } = await guard.check(tenantId, username, address);
    if (lock) throw new TooManyRequests(lock.retryAfterSec);
    user = await repos.users.findByUsername(username);
    const ok = await passwords.verify(user?.passwordHash, password);
    if (!ok || !user || user.disabled) {
      if (!ok) {
        const started = await guard.fail(tenantId, username, address);
        if (started) await audit('signin.lockout', `username:${username}`, { client_id: clientId, scope: started.scope, address });
      }
      await audit('signin.failure', user ? `user:${user.id}` : `username:${username}`, {
        client_id: clientId,
        reason: ok ? 'disabled' : 'invalid_credentials',
        address,
      });
      throw new errors.InvalidGrant(INVALID_CREDENTIALS);
    }
    if (accountFailures) await guard.succeed(tenantId, username, address);
  } catch (err) {
    if (err instanceof OverloadedError) throw new TemporarilyUnavailable(1);
    // without the shared counters we cannot rate-limit: refuse rather than guess
    if (err instanceof StoreUnavailableError) throw new TemporarilyUnavailable(5, 'sign-in is temporarily unavailable');
    throw err;
  }
  if (passwords.needsRehash(user.passwordHash)) {
    const hash = await passwords.hash(password).catch(() => undefined);
    if (hash) await repos.users.updatePasswordHash(user.id, hash, user.passwordHash).catch(() => {});
  }
  await audit('signin.success', `user:${user.id}`, { client_id: clientId, address });
  return user;
}
