/**
 * signIn: the one place that checks a username and password, shared by the password grant and
 * the browser login page so that both follow identical rules: the brute-force guard first (the
 * attempt is counted before argon2 runs, atomically with the lock check; a lock refuses without
 * counting), one argon2 verification even for unknown users (no timing oracle), the same failure
 * for unknown, wrong and disabled, audit events, and a rehash when the argon2 parameters changed.
 * Failures are oidc-provider errors; each caller presents them its own way.
 */
import { errors } from 'oidc-provider';
import type { TenantRepos } from '../repositories/index.ts';
import type { UserRow } from '../repositories/users.ts';
import type { AttemptTicket, LoginGuard } from '../security/login-guard.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import { usernameProblem } from '../security/usernames.ts';
import { OverloadedError } from '../security/work-limiter.ts';
import { StoreUnavailableError } from '../store/index.ts';
import { TemporarilyUnavailable, TooManyRequests } from './errors.ts';

export interface SignInDeps {
  tenantId: string;
  repos: TenantRepos;
  passwords: PasswordHasher;
  guard: LoginGuard;
  /**
   * the audit trail's name for a typed username that is no user: a keyed digest, because what is
   * typed into the username field is sometimes a password (see SecretBox.pseudonym)
   */
  pseudonym: (username: string) => string;
  /** an audit event that could not be written: the sign-in goes on, the failure is logged */
  onServerError: (err: Error) => void;
}

export interface SignInAttempt {
  username: string;
  password: string;
  /** the caller's address (the brute-force guard counts per address) */
  address: string;
  clientId: string;
}

export const INVALID_CREDENTIALS = 'invalid username or password';

/**
 * The signed-in user, or throws: InvalidGrant (bad credentials or disabled), TooManyRequests
 * (locked; `retryAfter` seconds), TemporarilyUnavailable (argon2 overloaded or the store down).
 */
export async function signIn(deps: SignInDeps, attempt: SignInAttempt): Promise<UserRow> {
  const { tenantId, repos, passwords, guard } = deps;
  const { username, password, address, clientId } = attempt;
  // a name no user can have (control characters, empty, too long) is refused before anything runs
  if (usernameProblem(username)) throw new errors.InvalidGrant(INVALID_CREDENTIALS);
  const audit = (type: string, actor: string, data: Record<string, string>) =>
    repos.audit.record({ type, actor, target: actor, data }).catch(deps.onServerError);

  let ticket: AttemptTicket | undefined;
  let user: UserRow | null;
  try {
    const begun = await guard.begin(tenantId, username, address);
    if ('lock' in begun) throw new TooManyRequests(begun.lock.retryAfterSec);
    // every slot stayed held by sign-ins under way from this address or for this account
    if ('busy' in begun) throw new TooManyRequests(1, 'too many sign-ins in progress; try again shortly');
    ticket = begun.ticket;
    user = await repos.users.findByUsername(username);
    const ok = await passwords.verify(user?.passwordHash, password);
    if (!ok || !user || user.disabled) {
      const who = user ? `user:${user.id}` : `username:${deps.pseudonym(username)}`;
      // a disabled user's right password counts like a wrong one: giving the count back would
      // tell a guesser, through the lock, that the guess was right
      const lock = await ticket.settle('failure');
      if (lock) await audit('signin.lockout', who, { client_id: clientId, scope: lock.scope });
      await audit('signin.failure', who, { client_id: clientId, reason: ok ? 'disabled' : 'invalid_credentials' });
      throw new errors.InvalidGrant(INVALID_CREDENTIALS);
    }
    await ticket.settle('success');
  } catch (err) {
    // an attempt that was never evaluated (argon2 overloaded, the database failed) does not count
    await ticket?.settle('not_evaluated').catch(() => {});
    if (err instanceof OverloadedError) throw new TemporarilyUnavailable(1);
    // without the shared counters we cannot rate-limit: refuse rather than guess
    if (err instanceof StoreUnavailableError) throw new TemporarilyUnavailable(5, 'sign-in is temporarily unavailable');
    throw err;
  }
  if (passwords.needsRehash(user.passwordHash)) {
    const hash = await passwords.hash(password).catch(() => undefined);
    if (hash) await repos.users.updatePasswordHash(user.id, hash, user.passwordHash).catch(() => {});
  }
  await audit('signin.success', `user:${user.id}`, { client_id: clientId });
  // A password change revokes every token of the user issued in its second or before (tokens
  // carry whole seconds). A sign-in with the new password in that same second waits for the next
  // one, so that its tokens are not born revoked.
  if (user.passwordChangedAt.getTime() > user.createdAt.getTime()) {
    const wait = (Math.floor(user.passwordChangedAt.getTime() / 1000) + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return user;
}
