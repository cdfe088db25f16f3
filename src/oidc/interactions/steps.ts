/**
 * The steps of a browser sign-in after the first factor (issue 16), in this order:
 *   code      — a user with a second factor enters a TOTP or recovery code, or uses a passkey;
 *   password  — a temporary password set by an admin is replaced by one the user chooses (after
 *               the code: whoever holds only the temporary password cannot set the final one);
 *   enrol     — a user the tenant's MFA policy covers, without a factor, sets up an authenticator
 *               app (then sees ten recovery codes once: `recovery`).
 * Only when none is left is the login result given to oidc-provider (no code is ever issued
 * before). What is due lives in the store under the interaction's uid (the interaction cookie
 * binds it to this browser), for the interaction's lifetime; the TOTP secret offered for
 * enrolment is sealed there. With it is the user's security version as the last step left it
 * (raised by every change to the password, the disabled flag or the factors): a sign-in left
 * half-done while the user enrolled, or an admin reset the factors or changed the password, does
 * not go on (found in review: it could otherwise enrol its own authenticator over the user's).
 *
 * A passkey can also be the whole sign-in ("Sign in with a passkey" on the login page): a
 * discoverable credential with user verification is two factors on its own.
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { AppError } from '../../errors.ts';
import { hasSecondFactor, type UserRow } from '../../repositories/users.ts';
import { looksLikeTotp } from '../../security/recovery-codes.ts';
import { generateTotpSecret } from '../../security/totp.ts';
import { TOTP_FAILURE_LIMIT } from '../../services/mfa.ts';
import { completeSignIn, secondFactor } from '../sign-in.ts';
import { passkeyAmr } from '../webauthn.ts';
import { alertOf, cancelForm, newPasswordContent, passkeyForm, recoveryCodesContent, totpEnrolContent } from './factor-pages.ts';
import { signInProblem } from './messages.ts';
import { sendInteractionPage } from './page.ts';
import type { InteractionContext } from './types.ts';
import { EMPTY, render, SafeHtml } from './views.ts';

export type Step = 'password' | 'code' | 'enrol' | 'recovery';

export interface PendingSignIn {
  userId: string;
  /** RFC 8176 methods so far */
  amr: string[];
  /** epoch seconds of the first factor */
  authTime: number;
  due: Step[];
  /** the user's security version as the last step left it */
  version: number;
  /** the TOTP secret offered on the enrolment page, sealed */
  totpSecret?: string;
}

const key = (ic: InteractionContext) => `tessera:signin:${ic.deps.model.id}:${ic.uid}`;

export async function pendingOf(ic: InteractionContext): Promise<PendingSignIn | undefined> {
  const raw = await ic.deps.store.get(key(ic));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as PendingSignIn;
  } catch {
    return undefined;
  }
}
const save = (ic: InteractionContext, p: PendingSignIn) => ic.deps.store.set(key(ic), JSON.stringify(p), ic.deps.interactionTtl * 1000);
const forget = (ic: InteractionContext) => ic.deps.store.delete(key(ic));

type Finish = (ctx: Context, result: InteractionResults) => Promise<void>;

/** the steps a user signed in with `amr` still has to take */
export function stepsFor(user: UserRow, amr: readonly string[], enrolmentDue: boolean): Step[] {
  const due: Step[] = [];
  if (!amr.includes('mfa')) {
    if (hasSecondFactor(user)) due.push('code');
    else if (enrolmentDue) due.push('enrol');
  }
  if (user.mustChangePassword) due.push('password');
  return due;
}

/** starts the steps after a first factor; finishes at once when none is due */
export async function begin(ctx: Context, ic: InteractionContext, finish: Finish, user: UserRow, amr: string[], due: Step[]) {
  const pending: PendingSignIn = { userId: user.id, amr, authTime: Math.floor(Date.now() / 1000), due, version: user.securityVersion };
  if (!due.length) return done(ctx, ic, finish, user, pending);
  await save(ic, pending);
  return show(ctx, ic, pending, user);
}

async function done(ctx: Context, ic: InteractionContext, finish: Finish, user: UserRow, pending: PendingSignIn) {
  await forget(ic);
  await completeSignIn(ic.deps.signIn, user, pending.amr, ic.client.clientId);
  return finish(ctx, { login: { accountId: user.id, amr: pending.amr, ts: pending.authTime } });
}

const CHANGED = 'Your account changed while you were signing in. Go back to the application and sign in again.';

async function userOf(ic: InteractionContext, pending: PendingSignIn): Promise<UserRow> {
  const user = await ic.deps.repos.users.findById(pending.userId);
  // disabled, deleted, or changed (password, factors) since the last step: the sign-in cannot go on
  if (!user || user.disabled || user.securityVersion !== pending.version) {
    await forget(ic);
    throw new AppError('forbidden', user && !user.disabled ? CHANGED : 'This account cannot sign in.');
  }
  return user;
}

/** the page of the current step (GET, or after a failed POST) */
export async function show(ctx: Context, ic: InteractionContext, pending: PendingSignIn, user?: UserRow, error?: string, status = error ? 400 : 200) {
  const { deps, uid } = ic;
  const u = user ?? (await userOf(ic, pending));
  const base = `${deps.basePath}/interaction/${uid}`;
  const csrf = deps.csrf.issue(ctx, uid);
  const step = pending.due[0];
  if (step === 'password') {
    return sendInteractionPage(ctx, ic, {
      status,
      title: 'Choose a new password',
      content: newPasswordContent({
        intro: `Your administrator gave you a temporary password. Choose your own password for ${u.username} to continue.`,
        action: `${base}/password`,
        csrf,
        button: 'Set password and continue',
        error,
        cancel: cancelForm(deps.basePath, uid, csrf),
      }),
    });
  }
  if (step === 'enrol') {
    let secret = pending.totpSecret ? deps.services.mfa.openPending(pending.totpSecret, uid) : undefined;
    if (!secret) {
      secret = generateTotpSecret();
      await save(ic, { ...pending, totpSecret: deps.services.mfa.sealPending(secret, uid) });
    }
    return sendInteractionPage(ctx, ic, {
      status,
      title: 'Set up two-step verification',
      content: await totpEnrolContent({
        intro: `${deps.page.name} requires a second step at sign-in for your account ${u.username}.`,
        issuer: deps.page.name,
        account: u.username,
        secret,
        action: `${base}/enrol`,
        csrf,
        error,
        cancel: cancelForm(deps.basePath, uid, csrf),
      }),
    });
  }
  if (step === 'recovery') {
    // the codes were on the page that answered the enrolment; they are never shown again
    return sendInteractionPage(ctx, ic, {
      status,
      title: 'Two-step verification is on',
      content: render('recovery-shown.html', { action: `${base}/continue`, csrf }),
    });
  }
  // code
  const passkeys = u.passkeyCount > 0 ? await deps.services.mfa.listPasskeys(u.id) : [];
  const passkey = passkeys.length
    ? passkeyForm({
        mode: 'authenticate',
        options: await deps.passkeys.authenticationOptions(passkeys, `code:${uid}`),
        action: `${base}/passkey`,
        csrf,
        label: 'Use a passkey instead',
      })
    : EMPTY;
  return sendInteractionPage(ctx, ic, {
    status,
    title: 'Two-step verification',
    passkeys: passkeys.length > 0,
    content: render('mfa-code.html', {
      username: u.username,
      alert: alertOf(error),
      action: `${base}/code`,
      cancel: cancelForm(deps.basePath, uid, csrf),
      csrf,
      errorRef: error ? ' form-error' : '',
      invalid: error ? new SafeHtml('aria-invalid="true"') : EMPTY,
      passkey,
    }),
  });
}

/** after a step is done: the next one, or the end of the sign-in */
async function advance(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn, user: UserRow) {
  // `user` as this step left it (a new password, a new factor)
  const next = { ...pending, due: pending.due.slice(1), version: user.securityVersion };
  if (!next.due.length) return done(ctx, ic, finish, user, next);
  await save(ic, next);
  return show(ctx, ic, next, user);
}

/** POST …/password: the new password replacing a temporary one */
export async function submitNewPassword(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn, form: URLSearchParams) {
  const user = await userOf(ic, pending);
  const password = (form.get('password') ?? '').slice(0, 1024);
  if (password !== (form.get('confirm') ?? '').slice(0, 1024)) return show(ctx, ic, pending, user, 'The two passwords do not match.');
  try {
    const changed = await ic.deps.services.users.changeOwnPassword(user.id, password, 'temporary');
    return advance(ctx, ic, finish, pending, changed);
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_request') return show(ctx, ic, pending, user, `${capitalise(err.message)}.`);
    throw err;
  }
}

/** POST …/code: a TOTP or recovery code */
export async function submitCode(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn, form: URLSearchParams) {
  const user = await userOf(ic, pending);
  const code = (form.get('code') ?? '').trim().slice(0, 40);
  if (!code) return show(ctx, ic, pending, user, 'Enter the code from your authenticator app or a recovery code.');
  try {
    const { amr } = await secondFactor(ic.deps.signIn, { user, code, address: ctx.ip, clientId: ic.client.clientId });
    return advance(ctx, ic, finish, { ...pending, amr }, user);
  } catch (err) {
    const problem = signInProblem(err);
    if (!problem) throw err;
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    let message = problem.message;
    if (problem.status === 400) {
      const now = await ic.deps.repos.users.findById(user.id);
      message =
        looksLikeTotp(code) && now && now.totpFailures >= TOTP_FAILURE_LIMIT
          ? 'Too many wrong codes from your authenticator app: its codes are refused now. Use a recovery code or a passkey, or ask your administrator to reset your second factor.'
          : 'That code is not valid. Check your authenticator app and try again.';
    }
    return show(ctx, ic, pending, user, message, problem.status);
  }
}

/** POST …/enrol: the first code of the new authenticator */
export async function submitEnrolment(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn, form: URLSearchParams) {
  const user = await userOf(ic, pending);
  const secret = pending.totpSecret ? ic.deps.services.mfa.openPending(pending.totpSecret, ic.uid) : undefined;
  if (!secret) return show(ctx, ic, pending, user);
  const code = (form.get('code') ?? '').trim();
  const enrolled = await ic.deps.services.mfa.enrolTotp(user, secret, code);
  if (!enrolled.ok && enrolled.reason === 'changed') {
    await forget(ic);
    throw new AppError('forbidden', CHANGED);
  }
  if (!enrolled.ok) return show(ctx, ic, pending, user, 'That code does not match. Make sure the time on your phone is right and enter the current code.');
  const { recoveryCodes } = enrolled;
  const updated = await ic.deps.repos.users.findById(user.id);
  if (!updated) throw new AppError('forbidden', 'This account cannot sign in.');
  const { totpSecret: _used, ...rest } = pending;
  const next: PendingSignIn = { ...rest, amr: ['pwd', 'otp', 'mfa'], due: pending.due.slice(1), version: updated.securityVersion };
  if (!recoveryCodes.length) return advance(ctx, ic, finish, { ...next, due: ['enrol', ...next.due] }, updated);
  await save(ic, { ...next, due: ['recovery', ...next.due] });
  const csrf = ic.deps.csrf.issue(ctx, ic.uid);
  return sendInteractionPage(ctx, ic, {
    title: 'Your recovery codes',
    content: recoveryCodesContent(recoveryCodes, `${ic.deps.basePath}/interaction/${ic.uid}/continue`, csrf),
  });
}

/** POST …/continue: the recovery codes were seen */
export async function submitContinue(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn) {
  const user = await userOf(ic, pending);
  if (pending.due[0] !== 'recovery') return show(ctx, ic, pending, user);
  return advance(ctx, ic, finish, pending, user);
}

/**
 * POST …/passkey: with a pending sign-in, the passkey is its second factor (it must be one of
 * the user's); without, it is the whole sign-in (any passkey of this tenant, discoverable).
 */
export async function submitPasskey(ctx: Context, ic: InteractionContext, finish: Finish, pending: PendingSignIn | undefined, form: URLSearchParams) {
  const { deps, uid } = ic;
  const mfa = deps.services.mfa;
  const asSecond = pending?.due[0] === 'code';
  // as a second step, like the others: not across a change to the account
  if (asSecond && pending) await userOf(ic, pending);
  const result = await deps.passkeys.verifyAuthentication(form.get('credential'), asSecond ? `code:${uid}` : `login:${uid}`, (id) => mfa.findPasskey(id));
  const user = result ? await deps.repos.users.findById(result.passkey.userId) : null;
  const valid = result && user && !user.disabled && (!asSecond || user.id === pending?.userId) && (await mfa.usePasskey(result.passkey.id, result.counter));
  if (!valid || !result || !user) {
    const who = user ? `user:${user.id}` : 'unknown';
    await deps.repos.audit
      .record({ type: 'signin.mfa_failure', actor: who, target: who, data: { client_id: ic.client.clientId, reason: 'passkey' } })
      .catch(deps.onServerError);
    const message = 'The passkey could not be verified. Try again, or use another way to sign in.';
    if (pending && asSecond) return show(ctx, ic, pending, undefined, message);
    return deps.showLogin(ctx, ic, { status: 400, error: message });
  }
  const kind = passkeyAmr(result.passkey.deviceType);
  // the user holds a factor of theirs: the app's codes, blocked by wrong ones, work again
  await mfa.clearTotpFailures(user.id);
  if (asSecond && pending) return advance(ctx, ic, finish, { ...pending, amr: ['pwd', kind, 'mfa'] }, user);
  // passwordless: possession and user verification; a temporary password is still replaced
  return begin(ctx, ic, finish, user, [kind, 'mfa'], stepsFor(user, ['mfa'], false));
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
