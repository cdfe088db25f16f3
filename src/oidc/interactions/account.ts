/**
 * The account page at `${issuer}/account` (issue 16): a staff member changes their password,
 * manages their authenticator app and passkeys, regenerates recovery codes and sees their last 20
 * sign-ins. It is signed in through the tenant's own login like any first-party app (the built-in
 * `tessera-account` client, code + PKCE; the code is redeemed here, in process), and then acts for
 * the user of the tenant's browser session — only a session whose sign-in had the second factor
 * the user has (or the tenant's policy requires): an older one signs in again. Every form carries
 * a CSRF token bound to that session; adding or removing a factor, regenerating recovery codes and
 * changing the password ask for the current password again (counted by the brute-force guard like
 * a sign-in), so a session left open cannot be turned into lasting access of someone else's.
 */
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT } from '../../contract.ts';
import { AppError } from '../../errors.ts';
import type { UserRow } from '../../repositories/users.ts';
import { generateTotpSecret } from '../../security/totp.ts';
import { confirmPassword, lacksSecondFactor, waitPastPasswordChange } from '../sign-in.ts';
import { readForm } from '../tokens/form.ts';
import { passkeyAmr } from '../webauthn.ts';
import type { Csrf } from './csrf.ts';
import { firstPartySignIn } from './first-party.ts';
import { alertOf, passkeyForm, recoveryCodesContent, totpEnrolContent } from './factor-pages.ts';
import { signInProblem } from './messages.ts';
import { sendPage } from './page.ts';
import type { InteractionDeps } from './types.ts';
import { EMPTY, join, render, type SafeHtml } from './views.ts';

const ROUTE = /^\/account(?:\/(callback|password|totp|totp\/remove|passkeys|passkeys\/remove|recovery-codes))?\/?$/;
const LOGIN_COOKIE = 'tessera.account';
const SIGN_IN_EVENTS = ['signin.success', 'signin.failure', 'signin.mfa_failure', 'signin.lockout'];
const EVENT_TEXT: Record<string, string> = {
  'signin.success': 'Signed in',
  'signin.failure': 'Failed sign-in',
  'signin.mfa_failure': 'Failed second step',
  'signin.lockout': 'Sign-in locked',
};

type Session = Awaited<ReturnType<Provider['Session']['get']>>;
interface AccountRequest {
  session: Session;
  user: UserRow;
  csrf: string;
}

export interface AccountDeps extends InteractionDeps {
  accountCsrf: Csrf;
  secureCookies: boolean;
}

export function accountRoutes(deps: AccountDeps) {
  const { provider, basePath } = deps;
  const home = `${basePath}/account`;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, path: home, signed: true, overwrite: true };

  const signIn = firstPartySignIn({
    provider,
    clientId: ACCOUNT_CLIENT,
    issuer: deps.model.issuer,
    basePath,
    page: home,
    cookie: LOGIN_COOKIE,
    cookieOptions,
    ttlSeconds: deps.interactionTtl,
  });
  /** no account session: sign in through the tenant's login (authorization code + PKCE) */
  const startSignIn = (ctx: Context, again = false) => signIn.start(ctx, again);

  /** the code is redeemed here: it must be ours (client, PKCE verifier, state of this browser) */
  async function callback(ctx: Context) {
    const redeemed = await signIn.redeem(ctx);
    if (redeemed === 'cancelled') return message(ctx, 400, 'Sign-in was cancelled', 'You are not signed in to your account page.');
    if (!redeemed) throw new AppError('invalid_request', 'expired');
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(home);
  }

  function message(ctx: Context, status: number, title: string, text: string) {
    sendPage(ctx, deps.page, { status, title, content: render('account-message.html', { text, href: home }) });
  }

  /** the session's user, or why there is none: no session (sign in), or one too weak now (sign in again) */
  async function signedIn(ctx: Context): Promise<AccountRequest | 'none' | 'weak'> {
    const session = await provider.Session.get(ctx);
    if (!session.accountId) return 'none';
    const user = await deps.repos.users.findById(session.accountId);
    if (!user || user.disabled) return 'none';
    if (lacksSecondFactor(user, session.amr, deps.signIn.mfaPolicy())) return 'weak';
    return { session, user, csrf: deps.accountCsrf.issue(ctx, session.uid) };
  }

  /**
   * The session goes on with what was just proven (a new factor: `proven`), or after the user's
   * own password change ended every session (`restore`). A session ended meanwhile by someone
   * else (an admin's reset or password change) is never brought back (found in review).
   */
  async function keepSession(a: AccountRequest, opts: { proven?: readonly string[]; restore?: boolean } = {}) {
    if (!opts.restore && !(await provider.Session.find(a.session.jti))) return;
    if (opts.proven?.length) a.session.amr = [...new Set([...(a.session.amr ?? []), ...opts.proven])];
    await a.session.save(Math.max(60, (a.session.exp ?? 0) - Math.floor(Date.now() / 1000)));
  }

  async function page(ctx: Context, a: AccountRequest, notice?: { ok?: string; error?: string; section?: string }, status = notice?.error ? 400 : 200) {
    const { user, csrf } = a;
    const [passkeys, events] = await Promise.all([
      deps.services.mfa.listPasskeys(user.id),
      deps.repos.audit.page({ types: SIGN_IN_EVENTS, actor: `user:${user.id}` }, { limit: 20 }),
    ]);
    const registration = await deps.passkeys.registrationOptions(user, passkeys, `account:${a.session.uid}`);
    const errorIn = (section: string) => (notice?.error && notice.section === section ? notice.error : undefined);
    const sections: SafeHtml[] = [
      render('account-password.html', { action: `${home}/password`, csrf, alert: alertOf(errorIn('password')) }),
      user.totpSealed
        ? render('account-totp-on.html', { action: `${home}/totp/remove`, csrf, alert: alertOf(errorIn('totp')) })
        : render('account-totp-off.html', { href: `${home}/totp`, alert: alertOf(errorIn('totp')) }),
      render('account-passkeys.html', {
        alert: alertOf(errorIn('passkeys')),
        list: passkeys.length
          ? join(
              passkeys.map((p) =>
                render('account-passkey-row.html', {
                  name: p.name,
                  kind: passkeyAmr(p.deviceType) === 'hwk' ? 'Security key or device-bound' : 'Synced passkey',
                  created: p.createdAt.toISOString().slice(0, 10),
                  used: p.lastUsedAt ? p.lastUsedAt.toISOString().slice(0, 16).replace('T', ' ') : 'never',
                  action: `${home}/passkeys/remove`,
                  id: p.id,
                  csrf,
                }),
              ),
            )
          : render('account-empty.html', { text: 'No passkeys yet.' }),
        add: passkeyForm({
          mode: 'register',
          options: registration,
          action: `${home}/passkeys`,
          csrf,
          label: 'Add a passkey',
          fields: join([render('passkey-name.html', {}), render('current-password.html', { id: 'passkey-current' })]),
        }),
      }),
      render('account-recovery.html', {
        left: String(user.recoveryCodesLeft),
        action: `${home}/recovery-codes`,
        csrf,
        alert: alertOf(errorIn('recovery')),
      }),
      render('account-history.html', {
        rows: events.length
          ? join(
              events.map((e) =>
                render('account-history-row.html', {
                  when: `${e.createdAt.toISOString().slice(0, 19).replace('T', ' ')} UTC`,
                  what: EVENT_TEXT[e.type] ?? e.type,
                  how: describeData(e.data),
                  where: e.address ?? '',
                }),
              ),
            )
          : render('account-history-empty.html', {}),
      }),
    ];
    sendPage(ctx, deps.page, {
      status,
      title: 'Your account',
      wide: true,
      passkeys: true,
      content: render('account.html', {
        username: user.username,
        notice: notice?.ok ? render('notice.html', { message: notice.ok }) : notice?.error && !notice.section ? alertOf(notice.error) : EMPTY,
        sections: join(sections),
        signOut: `${basePath}/session/end`,
      }),
    });
  }

  /** the current password again; a page with the error when wrong or locked */
  const reauthenticated = (ctx: Context, a: AccountRequest, form: URLSearchParams, section: string) =>
    confirmed(ctx, a, form, (error, status) => page(ctx, a, { error, section }, status));

  async function confirmed(
    ctx: Context,
    a: AccountRequest,
    form: URLSearchParams,
    refuse: (error: string, status?: number) => Promise<void>,
  ): Promise<boolean> {
    try {
      if (await confirmPassword(deps.signIn, { user: a.user, password: form.get('current') ?? '', address: ctx.ip })) return true;
      await refuse('Your current password is not correct.', 400);
    } catch (err) {
      const problem = signInProblem(err);
      if (!problem) throw err;
      if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
      await refuse(problem.message, problem.status);
    }
    return false;
  }

  async function totpPage(ctx: Context, a: AccountRequest, error?: string, status?: number): Promise<void> {
    if (a.user.totpSealed) return page(ctx, a, { error: 'An authenticator app is set up already. Remove it first to set up another.', section: 'totp' });
    const key = `tessera:account-totp:${deps.model.id}:${a.session.uid}`;
    const sealed = await deps.store.get(key);
    let secret = sealed ? deps.services.mfa.openPending(sealed, a.session.uid) : undefined;
    if (!secret) {
      secret = generateTotpSecret();
      await deps.store.set(key, deps.services.mfa.sealPending(secret, a.session.uid), deps.interactionTtl * 1000);
    }
    sendPage(ctx, deps.page, {
      status: status ?? (error ? 400 : 200),
      title: 'Set up an authenticator app',
      content: await totpEnrolContent({
        intro: 'Scan the code with your authenticator app, then enter the code it shows.',
        issuer: deps.page.name,
        account: a.user.username,
        secret,
        action: `${home}/totp`,
        csrf: a.csrf,
        error,
        fields: render('current-password.html', { id: 'totp-current' }),
        cancel: render('account-back.html', { href: home }),
      }),
    });
  }

  async function post(ctx: Context, a: AccountRequest, action: string, form: URLSearchParams) {
    const { user } = a;
    const mfa = deps.services.mfa;
    if (action === 'password') {
      if (!(await reauthenticated(ctx, a, form, 'password'))) return;
      const password = (form.get('password') ?? '').slice(0, 1024);
      if (password !== (form.get('confirm') ?? '').slice(0, 1024)) return page(ctx, a, { error: 'The two new passwords do not match.', section: 'password' });
      let changed: UserRow;
      try {
        changed = await deps.services.users.changeOwnPassword(user.id, password, 'account');
      } catch (err) {
        if (err instanceof AppError && err.code === 'invalid_request')
          return page(ctx, a, { error: `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`, section: 'password' });
        throw err;
      }
      // every session and token of the user ended with the change (tokens up to this second): this
      // session goes on, and its next tokens are not born in that second
      await keepSession(a, { restore: true });
      await waitPastPasswordChange(changed);
      return page(ctx, { ...a, user: changed }, { ok: 'Your password was changed. Your other sessions and apps were signed out.' });
    }
    if (action === 'totp') {
      const key = `tessera:account-totp:${deps.model.id}:${a.session.uid}`;
      const sealed = await deps.store.get(key);
      const secret = sealed ? mfa.openPending(sealed, a.session.uid) : undefined;
      if (!secret || user.totpSealed) return totpPage(ctx, a);
      if (!(await confirmed(ctx, a, form, (error, status) => totpPage(ctx, a, error, status)))) return;
      const enrolled = await mfa.enrolTotp(user, secret, (form.get('code') ?? '').trim());
      if (!enrolled.ok) {
        if (enrolled.reason === 'changed')
          return page(ctx, await refreshed(a), { error: 'Your account changed meanwhile. Nothing was set up; try again.', section: 'totp' });
        return totpPage(ctx, a, 'That code does not match. Make sure the time on your phone is right and enter the current code.');
      }
      await deps.store.delete(key);
      await keepSession(a, { proven: ['otp', 'mfa'] });
      if (enrolled.recoveryCodes.length) return showCodes(ctx, enrolled.recoveryCodes);
      return page(ctx, await refreshed(a), { ok: 'Your authenticator app is set up.' });
    }
    if (action === 'totp/remove') {
      if (!(await reauthenticated(ctx, a, form, 'totp'))) return;
      await mfa.removeTotp(user.id).catch(ignoreNotFound);
      return page(ctx, await refreshed(a), { ok: 'Your authenticator app was removed.' });
    }
    if (action === 'passkeys') {
      if (!(await reauthenticated(ctx, a, form, 'passkeys'))) return;
      const verified = await deps.passkeys.verifyRegistration(form.get('credential'), `account:${a.session.uid}`);
      if (!verified) return page(ctx, a, { error: 'The passkey could not be registered. Try again.', section: 'passkeys' });
      const name = (form.get('name') ?? '').trim().slice(0, 64) || 'Passkey';
      try {
        const codes = await mfa.addPasskey(user, { ...verified, name });
        await keepSession(a, { proven: [passkeyAmr(verified.deviceType), 'mfa'] });
        if (codes.length) return showCodes(ctx, codes);
      } catch (err) {
        if (err instanceof AppError && err.code === 'conflict')
          return page(ctx, a, {
            error: `${err.message === 'the account changed; reload the page' ? 'Your account changed meanwhile. Nothing was added; try again.' : 'This passkey is already registered.'}`,
            section: 'passkeys',
          });
        throw err;
      }
      return page(ctx, await refreshed(a), { ok: `Passkey "${name}" was added.` });
    }
    if (action === 'passkeys/remove') {
      if (!(await reauthenticated(ctx, a, form, 'passkeys'))) return;
      await mfa.removePasskey(user.id, form.get('id') ?? '').catch(ignoreNotFound);
      return page(ctx, await refreshed(a), { ok: 'The passkey was removed.' });
    }
    // recovery-codes
    if (!(await reauthenticated(ctx, a, form, 'recovery'))) return;
    return showCodes(ctx, await mfa.regenerateRecoveryCodes(user.id));
  }

  function showCodes(ctx: Context, codes: string[]) {
    sendPage(ctx, deps.page, { title: 'Your recovery codes', content: recoveryCodesContent(codes, home) });
  }

  async function refreshed(a: AccountRequest): Promise<AccountRequest> {
    return { ...a, user: (await deps.repos.users.findById(a.user.id)) ?? a.user };
  }

  async function serve(ctx: Context, action: string | undefined) {
    if (action === 'callback') {
      if (ctx.method !== 'GET') throw new AppError('method_not_allowed', 'not allowed');
      return callback(ctx);
    }
    const a = await signedIn(ctx);
    if (typeof a === 'string') {
      if (ctx.method === 'GET') return startSignIn(ctx, a === 'weak');
      return message(ctx, 401, 'Signed out', 'Your session has ended. Open your account page to sign in again.');
    }
    if (ctx.method === 'GET') {
      if (action === 'totp') return totpPage(ctx, a);
      if (!action) return page(ctx, a);
      ctx.redirect(home);
      return;
    }
    if (ctx.method !== 'POST' || !action) throw new AppError('method_not_allowed', 'not allowed');
    const form = await readForm(ctx).catch(() => new URLSearchParams());
    if (!deps.accountCsrf.verify(ctx, a.session.uid, form.get('csrf'))) {
      return message(ctx, 403, 'This form could not be verified', 'Reload your account page and try again.');
    }
    return post(ctx, a, action, form);
  }

  return function accountMiddleware(ctx: Context, next: Next): Promise<void> | void {
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    return serve(ctx, m[1]).catch((err: unknown) => {
      if (err instanceof AppError && err.status < 500) {
        if (err.message === 'expired') return message(ctx, 400, 'This sign-in has expired', 'Open your account page to sign in again.');
        return message(ctx, err.status, 'This request cannot be completed', err.message);
      }
      throw err;
    });
  };
}

const ignoreNotFound = (err: unknown) => {
  if (!(err instanceof AppError && err.code === 'not_found')) throw err;
};

function describeData(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const d = data as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d.amr === 'string') parts.push(d.amr.includes('mfa') ? 'with two-step verification' : 'with password');
  if (typeof d.reason === 'string') parts.push(d.reason.replaceAll('_', ' '));
  if (typeof d.client_id === 'string') parts.push(d.client_id === ACCOUNT_CLIENT ? 'account page' : d.client_id);
  return parts.join(', ');
}
