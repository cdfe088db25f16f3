/**
 * signIn: the one place that checks a username and password, shared by the password grant and
 * the browser login page so that both follow identical rules: the brute-force guard first (the
 * attempt is counted before argon2 runs, atomically with the lock check; a lock refuses without
 * counting), one argon2 verification even for unknown users (no timing oracle), the same failure
 * for unknown, wrong and disabled, audit events, and a rehash when the argon2 parameters changed.
 * Failures are oidc-provider errors; each caller presents them its own way.
 *
 * Second factors (issue 16). The password grant sends the code with the password (`otp`): both
 * are one attempt for the guard, refused with the same `invalid_grant` whichever was wrong. The
 * login page asks for the code on a page of its own (secondFactor below): there the right password
 * settles nothing (it does not clear the account's failure count, or a guesser who knows the
 * password could alternate password and code forever); the code step counts like a password.
 */
import { errors } from 'oidc-provider';
import type { TenantRepos } from '../repositories/index.ts';
import { ACCOUNT_CLIENT, mfaRequiredFor, type MfaPolicy } from '../contract.ts';
import { hasSecondFactor, type UserRow } from '../repositories/users.ts';
import type { CodeKind } from '../services/mfa.ts';
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
  /** checks and consumes a TOTP or recovery code (services/mfa.ts); `commit: false` only checks */
  verifyCode: (user: Pick<UserRow, 'id' | 'totpSealed' | 'totpFailures'> | null, code: string, commit?: boolean) => Promise<CodeKind | null>;
  /** the tenant's MFA policy */
  mfaPolicy: () => MfaPolicy;
}

export interface SignInAttempt {
  username: string;
  password: string;
  /** the caller's address (the brute-force guard counts per address) */
  address: string;
  clientId: string;
  /**
   * `grant`: the password grant, whose `otp` carries the second factor in the same request;
   * `browser`: the login page, which asks for it on the next page
   */
  channel: 'grant' | 'browser';
  otp?: string | undefined;
}

export interface SignedIn {
  user: UserRow;
  /** RFC 8176 methods used so far: `pwd`, then `otp` and `mfa` when a code came with it */
  amr: string[];
  /** browser: the user has a second factor, which the next page must check */
  secondFactorDue: boolean;
  /** browser: the tenant's policy requires a second factor the user does not have yet (enrol now) */
  enrolmentDue: boolean;
}

export const INVALID_CREDENTIALS = 'invalid username or password';
export const ENROL_IN_BROWSER = 'a second factor is required: sign in through the browser once to set it up';
export const TEMPORARY_PASSWORD = 'the password is temporary: sign in through the browser once to choose a new one';
export const INVALID_CODE = 'invalid authentication code';

/** invalid_grant whose description the client sees (oidc-provider shows only a generic one otherwise) */
function described(description: string): errors.InvalidGrant {
  const err = new errors.InvalidGrant(description);
  err.error_description = description;
  return err;
}

type Audit = (type: string, actor: string, data: Record<string, string>) => Promise<void>;
const auditOf =
  (deps: SignInDeps): Audit =>
  (type, actor, data) =>
    deps.repos.audit.record({ type, actor, target: actor, data }).catch(deps.onServerError);

/** the guard's errors as the caller's errors; an attempt never evaluated does not count */
async function guarded<T>(ticket: () => AttemptTicket | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await ticket()
      ?.settle('not_evaluated')
      .catch(() => {});
    if (err instanceof OverloadedError) throw new TemporarilyUnavailable(1);
    // without the shared counters we cannot rate-limit: refuse rather than guess
    if (err instanceof StoreUnavailableError) throw new TemporarilyUnavailable(5, 'sign-in is temporarily unavailable');
    throw err;
  }
}

async function admit(deps: SignInDeps, username: string, address: string): Promise<AttemptTicket> {
  const begun = await deps.guard.begin(deps.tenantId, username, address);
  if ('lock' in begun) throw new TooManyRequests(begun.lock.retryAfterSec);
  // every slot stayed held by sign-ins under way from this address or for this account
  if ('busy' in begun) throw new TooManyRequests(1, 'too many sign-ins in progress; try again shortly');
  return begun.ticket;
}

/**
 * The signed-in user, or throws: InvalidGrant (bad credentials or disabled; for the grant also a
 * missing or wrong code, an enrolment the policy requires, a temporary password), TooManyRequests
 * (locked; `retryAfter` seconds), TemporarilyUnavailable (argon2 overloaded or the store down).
 */
export async function signIn(deps: SignInDeps, attempt: SignInAttempt): Promise<SignedIn> {
  const { repos, passwords } = deps;
  const { username, password, address, clientId, channel } = attempt;
  // a name no user can have (control characters, empty, too long) is refused before anything runs
  if (usernameProblem(username)) throw new errors.InvalidGrant(INVALID_CREDENTIALS);
  const audit = auditOf(deps);

  let ticket: AttemptTicket | undefined;
  const { user, amr } = await guarded(
    () => ticket,
    async () => {
      ticket = await admit(deps, username, address);
      const found = await repos.users.findByUsername(username);
      const ok = await passwords.verify(found?.passwordHash, password);
      const factor = found !== null && hasSecondFactor(found);
      const valid = ok && found !== null && !found.disabled;
      // the grant's code is checked whatever the password (same work), consumed only with the right one
      const code = channel === 'grant' && factor && attempt.otp ? await deps.verifyCode(found, attempt.otp, valid) : null;
      const codeMissing = channel === 'grant' && factor && !code;
      if (!valid || codeMissing) {
        const who = found ? `user:${found.id}` : `username:${deps.pseudonym(username)}`;
        // a disabled user's right password counts like a wrong one: giving the count back would
        // tell a guesser, through the lock, that the guess was right
        const lock = await ticket.settle('failure');
        if (lock) await audit('signin.lockout', who, { client_id: clientId, scope: lock.scope });
        if (valid) await audit('signin.mfa_failure', who, { client_id: clientId, reason: attempt.otp ? 'invalid_code' : 'missing_code' });
        else await audit('signin.failure', who, { client_id: clientId, reason: ok ? 'disabled' : 'invalid_credentials' });
        throw new errors.InvalidGrant(INVALID_CREDENTIALS);
      }
      // on the login page the code comes next: the password alone clears nothing
      await ticket.settle(channel === 'browser' && factor ? 'not_evaluated' : 'success');
      return { user: found, amr: code ? ['pwd', 'otp', 'mfa'] : ['pwd'] };
    },
  );
  if (passwords.needsRehash(user.passwordHash)) {
    const hash = await passwords.hash(password).catch(() => undefined);
    if (hash) await repos.users.updatePasswordHash(user.id, hash, user.passwordHash).catch(() => {});
  }
  const secondFactorDue = channel === 'browser' && hasSecondFactor(user);
  const enrolmentDue = !hasSecondFactor(user) && mfaRequiredFor(deps.mfaPolicy(), user.roles);
  if (channel === 'grant') {
    // the password was right: these refusals say what to do (the browser sign-in does it)
    if (enrolmentDue) {
      await audit('signin.failure', `user:${user.id}`, { client_id: clientId, reason: 'mfa_enrolment_required' });
      throw described(ENROL_IN_BROWSER);
    }
    if (user.mustChangePassword) {
      await audit('signin.failure', `user:${user.id}`, { client_id: clientId, reason: 'temporary_password' });
      throw described(TEMPORARY_PASSWORD);
    }
  }
  // the browser records its success once every step is done (completeSignIn)
  if (channel === 'grant') await completeSignIn(deps, user, amr, clientId);
  return { user, amr, secondFactorDue, enrolmentDue };
}

/**
 * Whether a sign-in with `amr` lacks the second factor its user has, or that the tenant's policy
 * requires of them: such a session or refresh token is not good any more (sign in again).
 */
export const lacksSecondFactor = (user: Pick<UserRow, 'totpSealed' | 'passkeyCount' | 'roles'>, amr: readonly string[] | undefined, policy: MfaPolicy) =>
  !amr?.includes('mfa') && (hasSecondFactor(user) || mfaRequiredFor(policy, user.roles));

/** the last step of a sign-in: its audit event, and a wait past a password change made this second */
export async function completeSignIn(deps: SignInDeps, user: Pick<UserRow, 'id' | 'passwordChangedAt' | 'createdAt'>, amr: string[], clientId: string) {
  await auditOf(deps)('signin.success', `user:${user.id}`, { client_id: clientId, amr: amr.join(' ') });
  await waitPastPasswordChange(user);
}

/**
 * A password change revokes every token of the user issued in its second or before (tokens carry
 * whole seconds). A sign-in with the new password in that same second waits for the next one, so
 * that its tokens are not born revoked.
 */
export async function waitPastPasswordChange(user: Pick<UserRow, 'passwordChangedAt' | 'createdAt'>) {
  if (user.passwordChangedAt.getTime() > user.createdAt.getTime()) {
    const wait = (Math.floor(user.passwordChangedAt.getTime() / 1000) + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * The login page's second step: a TOTP or recovery code of a user whose password was checked on
 * the page before. One attempt for the guard (a wrong code counts like a wrong password, on the
 * account and the address); the right one clears the account's count.
 */
export async function secondFactor(
  deps: SignInDeps,
  attempt: { user: UserRow; code: string; address: string; clientId: string },
): Promise<{ kind: CodeKind; amr: string[] }> {
  const { user, code, address, clientId } = attempt;
  const audit = auditOf(deps);
  let ticket: AttemptTicket | undefined;
  return guarded(
    () => ticket,
    async () => {
      ticket = await admit(deps, user.username, address);
      const kind = await deps.verifyCode(user, code);
      if (!kind) {
        const lock = await ticket.settle('failure');
        if (lock) await audit('signin.lockout', `user:${user.id}`, { client_id: clientId, scope: lock.scope });
        await audit('signin.mfa_failure', `user:${user.id}`, { client_id: clientId, reason: 'invalid_code' });
        throw new errors.InvalidGrant(INVALID_CODE);
      }
      await ticket.settle('success');
      return { kind, amr: ['pwd', 'otp', 'mfa'] };
    },
  );
}

/**
 * The current password, asked again before a change to the account's factors or password (the
 * account page): one attempt for the guard like any sign-in; a wrong one counts, a right one
 * clears nothing. False when wrong; throws TooManyRequests while locked.
 */
export async function confirmPassword(deps: SignInDeps, attempt: { user: UserRow; password: string; address: string }): Promise<boolean> {
  const { user, password, address } = attempt;
  let ticket: AttemptTicket | undefined;
  return guarded(
    () => ticket,
    async () => {
      ticket = await admit(deps, user.username, address);
      const ok = await deps.passwords.verify(user.passwordHash, password.slice(0, 1024));
      if (!ok) {
        const lock = await ticket.settle('failure');
        if (lock) await auditOf(deps)('signin.lockout', `user:${user.id}`, { client_id: ACCOUNT_CLIENT, scope: lock.scope });
        await auditOf(deps)('signin.failure', `user:${user.id}`, { client_id: ACCOUNT_CLIENT, reason: 'reauthentication' });
        return false;
      }
      await ticket.settle('not_evaluated');
      return true;
    },
  );
}
