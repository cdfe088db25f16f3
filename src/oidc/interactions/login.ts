/**
 * The login prompt: the form (GET) and its submission (POST). Credentials go through signIn,
 * exactly like the password grant (brute-force guard, argon2, audit); a failure re-renders the
 * form with a clear message and keeps the username, never the password. After the password come
 * the steps of steps.ts (a temporary password, the second factor, enrolment). The page also offers
 * "Sign in with a passkey" (passwordless; the only script on it is the same-origin passkey module).
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { signIn } from '../sign-in.ts';
import { cancelForm, describedBy, passkeyForm } from './factor-pages.ts';
import { signInProblem } from './messages.ts';
import { sendInteractionPage } from './page.ts';
import { begin, stepsFor } from './steps.ts';
import type { InteractionContext } from './types.ts';
import { EMPTY, render, type SafeHtml } from './views.ts';

/** the passwordless form; without it (the store failed) the page still offers the password */
async function passkeyOption(ic: InteractionContext, csrf: string): Promise<SafeHtml | undefined> {
  const { deps, uid } = ic;
  try {
    const options = await deps.passkeys.authenticationOptions([], `login:${uid}`);
    return passkeyForm({ mode: 'authenticate', options, action: `${deps.basePath}/interaction/${uid}/passkey`, csrf, label: 'Sign in with a passkey' });
  } catch (err) {
    deps.onServerError(err as Error);
    return undefined;
  }
}

export async function showLogin(ctx: Context, ic: InteractionContext, opts: { status?: number; username?: string; error?: string } = {}) {
  const { deps, uid, client } = ic;
  const base = `${deps.basePath}/interaction/${uid}`;
  const csrf = deps.csrf.issue(ctx, uid);
  const passkey = await passkeyOption(ic, csrf);
  sendInteractionPage(ctx, ic, {
    status: opts.status ?? 200,
    title: 'Sign in',
    passkeys: passkey !== undefined,
    content: render('login.html', {
      client: client.name,
      alert: opts.error ? render('alert.html', { message: opts.error }) : EMPTY,
      action: `${base}/login`,
      cancel: cancelForm(deps.basePath, uid, csrf),
      csrf,
      username: opts.username ?? '',
      describedBy: describedBy(opts.error),
      passkey: passkey ?? EMPTY,
    }),
  });
}

/** checks the password; then the steps that are due, or the end of the sign-in */
export async function submitLogin(ctx: Context, ic: InteractionContext, form: URLSearchParams, finish: (ctx: Context, r: InteractionResults) => Promise<void>) {
  const { deps, client } = ic;
  const username = (form.get('username') ?? '').trim().slice(0, 200);
  const password = (form.get('password') ?? '').slice(0, 1024);
  if (!username || !password) return showLogin(ctx, ic, { status: 400, username, error: 'Enter your username and your password.' });
  try {
    const { user, amr, enrolmentDue } = await signIn(deps.signIn, { username, password, address: ctx.ip, clientId: client.clientId, channel: 'browser' });
    return await begin(ctx, ic, finish, user, amr, stepsFor(user, amr, enrolmentDue));
  } catch (err) {
    const problem = signInProblem(err);
    if (!problem) throw err;
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    return showLogin(ctx, ic, { status: problem.status, username, error: problem.message });
  }
}
