/**
 * The interaction routes of one tenant, mounted in front of its oidc-provider (provider.use), so
 * they live under the issuer: `/t/<slug>/interaction/:uid` (GET: the current prompt),
 * `…/login` and `…/confirm` and `…/abort` (POST), and the pages' stylesheet. Every form is
 * checked against the interaction cookie's uid and the CSRF token; every failure is a page,
 * never a stack trace.
 */
import type { Context, Next } from 'koa';
import { errors, type InteractionResults } from 'oidc-provider';
import { AppError } from '../../errors.ts';
import { RETRY_AFTER_SECONDS, UNAVAILABLE } from '../../http/oauth-error.ts';
import { readForm } from '../tokens/form.ts';
import { grantConsent, showConsent } from './consent.ts';
import { showLogin, submitLogin } from './login.ts';
import { pendingOf, show, submitCode, submitContinue, submitEnrolment, submitNewPassword, submitPasskey } from './steps.ts';
import { NOT_GRANTED } from './policy.ts';
import { originsOf, securityHeaders, sendPage, STYLESHEET_PATH, WEBAUTHN_SCRIPT_PATH } from './page.ts';
import type { InteractionClient, InteractionContext, InteractionDeps } from './types.ts';
import { render, stylesheet, webauthnScript } from './views.ts';

const ROUTE = /^\/interaction\/([\w-]{1,64})(?:\/(login|confirm|abort|password|code|enrol|continue|passkey))?$/;

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const EXPIRED = new PageError(400, 'session_not_found', 'This sign-in request has expired or was already completed.');
const FORGED = new PageError(403, 'invalid_request', 'This form could not be verified. Reload the page and try again.');

export function showError(ctx: Context, deps: Pick<InteractionDeps, 'page'>, status: number, code: string, message: string) {
  sendPage(ctx, deps.page, {
    status,
    title: status >= 500 ? 'Something went wrong' : 'Sign-in cannot continue',
    content: render('error.html', { message, hint: 'Go back to the application and start again.', code }),
  });
}

export function interactionRoutes(deps: InteractionDeps) {
  const { provider } = deps;

  async function clientOf(clientId: string): Promise<InteractionClient> {
    const row = await deps.clients.get(clientId);
    if (!row || row.disabled) throw new PageError(400, 'invalid_client', 'This application is not available.');
    return {
      clientId,
      name: row.name,
      firstParty: row.firstParty,
      redirectOrigins: originsOf([...row.redirectUris, ...row.postLogoutRedirectUris]),
    };
  }

  async function finish(ctx: Context, result: InteractionResults) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    securityHeaders(ctx);
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function handle(ctx: Context, uid: string, action: string | undefined) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res).catch((err: unknown) => {
      if (err instanceof errors.SessionNotFound) throw EXPIRED;
      throw err;
    });
    // the uid in the address must be the one this browser's interaction cookie names
    if (interaction.uid !== uid) throw EXPIRED;
    const ic: InteractionContext = { deps, uid, client: await clientOf(String(interaction.params.client_id)) };
    const prompt = interaction.prompt.name;
    // the user's roles grant nothing of what was asked on a requested API: no code, no consent page
    if (prompt === 'consent' && interaction.prompt.reasons.includes(NOT_GRANTED)) {
      return finish(ctx, { error: 'invalid_scope', error_description: 'none of the requested scopes is granted to this user on the requested resource' });
    }

    if (ctx.method === 'GET' && !action) {
      if (prompt === 'login') {
        const pending = await pendingOf(ic);
        return pending ? show(ctx, ic, pending) : showLogin(ctx, ic);
      }
      if (prompt === 'consent') {
        if (ic.client.firstParty) return finish(ctx, await grantConsent(ic, interaction));
        return showConsent(ctx, ic, interaction);
      }
      throw new PageError(400, 'invalid_request', 'This sign-in step is not supported.');
    }
    if (ctx.method !== 'POST' || !action) throw new PageError(405, 'invalid_request', 'This page cannot be used that way.');
    const form = await readForm(ctx).catch(() => {
      throw FORGED;
    });
    if (!deps.csrf.verify(ctx, uid, form.get('csrf'))) throw FORGED;

    if (action === 'abort') {
      return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
    }
    if (action === 'confirm') {
      if (prompt !== 'consent') throw EXPIRED;
      return finish(ctx, await grantConsent(ic, interaction));
    }
    if (prompt !== 'login') throw EXPIRED;
    const pending = await pendingOf(ic);
    // the first factor (password or passkey) starts the steps; each later step needs its turn
    if (action === 'login') return pending ? show(ctx, ic, pending) : submitLogin(ctx, ic, form, finish);
    if (action === 'passkey') return pending && pending.due[0] !== 'code' ? show(ctx, ic, pending) : submitPasskey(ctx, ic, finish, pending, form);
    if (!pending) throw EXPIRED;
    const step = { password: 'password', code: 'code', enrol: 'enrol', continue: 'recovery' }[action as 'password' | 'code' | 'enrol' | 'continue'];
    if (pending.due[0] !== step) return show(ctx, ic, pending);
    if (action === 'password') return submitNewPassword(ctx, ic, finish, pending, form);
    if (action === 'code') return submitCode(ctx, ic, finish, pending, form);
    if (action === 'enrol') return submitEnrolment(ctx, ic, finish, pending, form);
    return submitContinue(ctx, ic, finish, pending);
  }

  // not async itself: the requests it does not serve (most of them) pass through without a promise of its own
  return function interactionMiddleware(ctx: Context, next: Next): Promise<void> | void {
    const asset = ctx.path === STYLESHEET_PATH ? 'css' : ctx.path === WEBAUTHN_SCRIPT_PATH ? 'js' : undefined;
    if (asset && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.type = asset === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
      ctx.body = asset === 'css' ? stylesheet() : webauthnScript();
      return;
    }
    const m = ROUTE.exec(ctx.path);
    return m ? serve(ctx, m[1]!, m[2]) : next();
  };

  async function serve(ctx: Context, uid: string, action: string | undefined): Promise<void> {
    try {
      await handle(ctx, uid, action);
    } catch (err) {
      if (err instanceof PageError) return showError(ctx, deps, err.status, err.code, err.message);
      if (err instanceof AppError && err.code === 'forbidden') return showError(ctx, deps, 403, 'access_denied', err.message);
      deps.onServerError(err as Error);
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      showError(ctx, deps, 503, UNAVAILABLE.error, 'The service is temporarily unavailable. Please try again in a moment.');
    }
  }
}
