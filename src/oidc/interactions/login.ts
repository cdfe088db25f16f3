/**
 * The login prompt: the form (GET) and its submission (POST). Credentials go through signIn,
 * exactly like the password grant (brute-force guard, argon2, audit); a failure re-renders the
 * form with a clear message and keeps the username, never the password.
 */
import type { Context } from 'koa';
import { signIn } from '../sign-in.ts';
import { signInProblem } from './messages.ts';
import { sendPage } from './page.ts';
import type { InteractionContext } from './types.ts';
import { EMPTY, render, SafeHtml } from './views.ts';

const DESCRIBED_BY_ERROR = new SafeHtml('aria-describedby="form-error" aria-invalid="true"');

export function showLogin(ctx: Context, ic: InteractionContext, opts: { status?: number; username?: string; error?: string } = {}) {
  const { deps, uid, client } = ic;
  const base = `${deps.basePath}/interaction/${uid}`;
  sendPage(ctx, deps.page, {
    status: opts.status ?? 200,
    title: 'Sign in',
    formTargets: client.redirectOrigins,
    content: render('login.html', {
      client: client.name,
      alert: opts.error ? render('alert.html', { message: opts.error }) : EMPTY,
      action: `${base}/login`,
      abort: `${base}/abort`,
      csrf: deps.csrf.issue(ctx, uid),
      username: opts.username ?? '',
      describedBy: opts.error ? DESCRIBED_BY_ERROR : EMPTY,
    }),
  });
}

/** returns the accountId when signed in; otherwise the page has been written */
export async function submitLogin(ctx: Context, ic: InteractionContext, form: URLSearchParams): Promise<string | undefined> {
  const { deps, client } = ic;
  const username = (form.get('username') ?? '').trim().slice(0, 200);
  const password = (form.get('password') ?? '').slice(0, 1024);
  if (!username || !password) {
    showLogin(ctx, ic, { status: 400, username, error: 'Enter your username and your password.' });
    return undefined;
  }
  try {
    const user = await signIn(deps.signIn, {
      username,
      password,
      address: ctx.ip,
      clientId: client.clientId,
    });
    return user.id;
  } catch (err) {
    const problem = signInProblem(err);
    if (!problem) throw err;
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    showLogin(ctx, ic, { status: problem.status, username, error: problem.message });
    return undefined;
  }
}
