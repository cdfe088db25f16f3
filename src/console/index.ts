/**
 * The admin console at `${issuer}/console/` (issue 18): server-rendered pages a department admin
 * runs their tenant from. It signs in through the tenant's own login (the built-in
 * `tessera-console` client, code + PKCE, second factor per the tenant's policy), keeps its own
 * session (session.ts), and does everything through the admin API's pipeline (admin/dispatch.ts)
 * as the signed-in admin: the same validation, the same policy decisions (a tenant admin acts on
 * their tenant only, protected principals stay protected), the same audit events with the admin
 * as the actor. It never gets a power the API would not grant. Someone without an admin role gets
 * a polite 403 page.
 *
 * Security: the pages' CSP allows no script and no inline style (the tenant's stylesheet only),
 * no framing; every form carries a CSRF token bound to the session (HMAC of its id) and the
 * session cookie is HttpOnly, SameSite=Strict, scoped to the console's path; a post from another
 * origin is refused; destructive actions are confirmed (reset second factors: a checkbox; delete:
 * the username typed again). Secrets are never rendered twice.
 */
import type { Context, Next } from 'koa';
import { createDispatcher } from '../admin/dispatch.ts';
import type { AdminRoute } from '../admin/route.ts';
import { adminRoutes } from '../admin/routes.ts';
import { authorityOf } from '../admin/auth.ts';
import { CONSOLE_CLIENT, SLUG_PATTERN, type Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import { RETRY_AFTER_SECONDS } from '../http/oauth-error.ts';
import { firstPartySignIn } from '../oidc/interactions/first-party.ts';
import { securityHeaders, STYLESHEET_PATH } from '../oidc/interactions/page.ts';
import { consoleScript, EMPTY, html, join, render, SafeHtml } from '../oidc/interactions/views.ts';
import { lacksSecondFactor } from '../oidc/sign-in.ts';
import { readForm } from '../oidc/tokens/form.ts';
import type { UserRow } from '../repositories/users.ts';
import type { Services } from '../services/index.ts';
import type { Store } from '../store/index.ts';
import type { TenantPool } from '../tenants/pool.ts';
import type { ServedTenant } from '../tenants/serve.ts';
import { apiPage, apisPage, rolePage, rolesPage } from './catalog.ts';
import { clientPage, clientsPage } from './clients.ts';
import { auditCsv, auditPage, NOTICES, userPage, usersPage } from './pages.ts';
import { keysPage, settingsPage, tenantsPage } from './tenant-pages.ts';
import type { ConsolePage, ConsoleRequest } from './types.ts';
import { createConsoleSessions } from './session.ts';

export interface ConsoleDeps {
  publicUrl: string;
  pool: TenantPool;
  services: Services;
  store: Store;
  /** signs the CSRF tokens (derived from the key encryption key) */
  cookieKey: string;
  /** CONSOLE_IDLE_TIMEOUT and CONSOLE_SESSION_MAX (seconds) */
  idleSeconds: number;
  maxSeconds: number;
  onServerError(err: Error): void;
}

const PATH = /^\/t\/([^/]+)\/console(?:\/(.*))?$/;

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

type ListPage = (r: ConsoleRequest, form?: URLSearchParams) => Promise<void>;
type OnePage = (r: ConsoleRequest, id: string, action: string | undefined, form?: URLSearchParams) => Promise<void>;
/** the console's sections: a list (GET, and POST to create) and one item's page with its actions */
const PAGES: Record<string, { list: ListPage; one?: OnePage; actions?: readonly string[]; platform?: boolean; readOnly?: boolean }> = {
  users: { list: usersPage, one: userPage, actions: ['roles', 'state', 'password', 'mfa', 'delete'] },
  roles: { list: rolesPage, one: rolePage, actions: ['edit', 'delete'] },
  apis: { list: apisPage, one: apiPage, actions: ['edit', 'delete'] },
  clients: { list: clientsPage, one: clientPage, actions: ['edit', 'secret', 'state', 'delete'] },
  keys: { list: keysPage },
  audit: { list: auditPage, readOnly: true },
  settings: { list: settingsPage },
  tenants: { list: tenantsPage, platform: true },
};
const LOGIN_COOKIE = 'tessera.console-login';
/** seconds a sign-in through the login page may take */
const SIGN_IN_SECONDS = 15 * 60;

export function createConsole(deps: ConsoleDeps) {
  const routes = new Map<string, AdminRoute>(adminRoutes().map((r) => [r.operation, r]));
  const call = createDispatcher({ services: deps.services, tenantFor: (slug) => deps.pool.get(slug) });
  const origin = new URL(deps.publicUrl).origin;

  function layout(ctx: Context, tenant: ServedTenant, home: string, page: ConsolePage & { username: string; csrf: string; nav: SafeHtml }, status = 200) {
    securityHeaders(ctx, [], page.script === true);
    // the console's forms then carry their true Origin (with no-referrer a browser sends `null`)
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    const basePath = home.slice(0, -'/console'.length);
    const done = ctx.query.done;
    const notice = typeof done === 'string' && Object.hasOwn(NOTICES, done) ? render('notice.html', { message: NOTICES[done]! }) : undefined;
    ctx.body = render('console-layout.html', {
      title: page.title,
      tenant: tenant.name,
      stylesheet: `${basePath}${STYLESHEET_PATH}`,
      nav: page.nav,
      username: page.username,
      csrf: page.csrf,
      signOut: `${home}/sign-out`,
      notice: notice ?? EMPTY,
      content: page.content,
      script: page.script ? html`<script type="module" src="${home}/console.js"></script>` : EMPTY,
    }).html;
  }

  /** a page outside the signed-in console (signed out, no access, errors): the sign-in card */
  function plain(ctx: Context, tenant: ServedTenant | null, status: number, title: string, text: string, link?: { href: string; label: string }) {
    securityHeaders(ctx);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    const basePath = tenant ? new URL(tenant.issuer).pathname : '';
    ctx.body = render('layout.html', {
      title,
      tenant: tenant?.name ?? 'Tessera',
      stylesheet: `${basePath}${STYLESHEET_PATH}`,
      scripts: EMPTY,
      cardClass: 'card',
      content: render('console-message.html', { text, action: link ? render('console-link.html', link) : EMPTY }),
    }).html;
  }

  function noAccess(ctx: Context, tenant: ServedTenant, user: UserRow) {
    plain(
      ctx,
      tenant,
      403,
      'No access to the console',
      `You are signed in as ${user.username}, who is not an administrator of ${tenant.name}. Ask an administrator if you need access.`,
    );
  }

  function navOf(home: string, current: string, platform: boolean): SafeHtml {
    const links: [string, string][] = [
      ['users', 'Users'],
      ['roles', 'Roles'],
      ['apis', 'APIs'],
      ['clients', 'Clients'],
      ['keys', 'Keys'],
      ['audit', 'Audit log'],
      ['settings', 'Settings'],
      ...(platform ? ([['tenants', 'Tenants']] as [string, string][]) : []),
    ];
    return join(
      links.map(([path, label]) =>
        render('console-nav-link.html', { href: `${home}/${path}`, label, current: path === current ? new SafeHtml(' aria-current="page"') : EMPTY }),
      ),
    );
  }

  async function serve(ctx: Context, slug: string, rest: string) {
    const tenant = SLUG_PATTERN.test(slug) ? await deps.pool.get(slug) : null;
    if (!tenant) return plain(ctx, null, 404, 'Not found', 'There is no such tenant.');
    const basePath = new URL(tenant.issuer).pathname;
    const home = `${basePath}/console`;
    const secure = tenant.settings.secureCookies;
    const sessions = createConsoleSessions({
      store: deps.store,
      tenantId: tenant.id,
      cookiePath: `${home}/`,
      secure,
      key: deps.cookieKey,
      idleSeconds: deps.idleSeconds,
      maxSeconds: deps.maxSeconds,
    });
    const signIn = firstPartySignIn({
      provider: tenant.provider,
      clientId: CONSOLE_CLIENT,
      issuer: tenant.issuer,
      basePath,
      page: home,
      cookie: LOGIN_COOKIE,
      cookieOptions: { httpOnly: true, sameSite: 'lax', secure, path: `${home}/`, signed: true, overwrite: true },
      ttlSeconds: SIGN_IN_SECONDS,
    });

    if (rest === 'console.js' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = consoleScript();
      return;
    }
    if (rest === 'callback' && ctx.method === 'GET') {
      const redeemed = await signIn.redeem(ctx);
      if (redeemed === 'cancelled')
        return plain(ctx, tenant, 400, 'Sign-in was cancelled', 'You are not signed in to the console.', { href: `${home}/`, label: 'Sign in' });
      if (!redeemed)
        return plain(ctx, tenant, 400, 'Sign-in expired', 'This sign-in has expired or was already used.', { href: `${home}/`, label: 'Sign in again' });
      const user = await tenant.repos.users.findById(redeemed.accountId);
      if (!user || user.disabled) return plain(ctx, tenant, 403, 'No access', 'This account cannot use the console.');
      // a browser session from before a factor was needed: the login page again, whatever it says
      if (lacksSecondFactor(user, redeemed.amr, tenant.settings.mfa)) return signIn.start(ctx, true, redeemed.returnTo);
      // no session at all for someone who is no admin (a later promotion must not upgrade it)
      if (authorityOf(slug, tenant.id, user.roles).kind === 'none') return noAccess(ctx, tenant, user);
      await sessions.begin(ctx, {
        userId: user.id,
        version: user.securityVersion,
        createdAt: Date.now(),
        amr: [...redeemed.amr],
        sessionUid: redeemed.sessionUid,
      });
      ctx.set('Cache-Control', 'no-store');
      return ctx.redirect(redeemed.returnTo ?? `${home}/users`);
    }

    const current = await sessions.current(ctx);
    const user = current ? await tenant.repos.users.findById(current.session.userId) : null;
    // the account changed since the sign-in (password, disabled, factors), or the tenant's policy
    // (or a new role) now asks for a factor this sign-in did not have: that session is over
    const weak = current && user ? lacksSecondFactor(user, current.session.amr, tenant.settings.mfa) : false;
    if (!current || !user || user.disabled || user.securityVersion !== current.session.version || weak) {
      if (current) await sessions.end(ctx);
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return signIn.start(ctx, weak, ctx.path.startsWith(`${home}/`) ? ctx.path : undefined);
      return plain(ctx, tenant, 401, 'Your session has ended', 'Sign in again to go on.', { href: `${home}/`, label: 'Sign in' });
    }

    let form: URLSearchParams | undefined;
    if (ctx.method === 'POST') {
      // a form from anywhere but this origin, or without this session's token, does nothing
      const from = ctx.get('origin');
      form = await readForm(ctx, ['roles', 'permission', 'mfaRoles']).catch(() => undefined);
      if ((from && from !== origin) || !form || !sessions.verifyCsrf(current.id, form.get('csrf'))) {
        return plain(ctx, tenant, 403, 'Not accepted', 'This form could not be verified. Reload the page and try again.', {
          href: `${home}/users`,
          label: 'Back to the console',
        });
      }
      if (rest === 'sign-out') {
        const ended = await sessions.end(ctx);
        // the browser's sign-in at the tenant ends too: "Sign in" on a shared computer asks again
        if (ended?.sessionUid) await (await tenant.provider.Session.findByUid(ended.sessionUid))?.destroy();
        return plain(ctx, tenant, 200, 'Signed out', 'You have signed out of the console.', { href: `${home}/`, label: 'Sign in again' });
      }
    } else if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      return plain(ctx, tenant, 405, 'Not allowed', 'This page cannot be used that way.');
    }

    const authority = authorityOf(slug, tenant.id, user.roles);
    if (authority.kind === 'none') {
      // an admin who lost the role: the session ends with it
      await sessions.end(ctx);
      return noAccess(ctx, tenant, user);
    }
    const actor: Actor = { actor: `user:${user.id}@${slug}`, authority };
    const section = rest.split('/')[0] ?? '';
    const request: ConsoleRequest = {
      ctx,
      tenant,
      home,
      user,
      actor,
      csrf: current.csrf,
      call: (operation, input) => {
        const route = routes.get(operation)!;
        // a tenant route acts on this tenant; a platform route (tenant.create, tenant.list) on none
        const params = route.path.includes('{t}') ? { t: slug, ...input.params } : { ...input.params };
        return call(route, actor, { params, query: input.query ?? {}, body: async () => input.body });
      },
      once: { issue: () => sessions.onceToken(current.id), use: (token) => sessions.useOnce(current.id, token) },
      send: (page, status) =>
        layout(
          ctx,
          tenant,
          home,
          { ...page, username: user.username, csrf: current.csrf, nav: navOf(home, section, authority.kind === 'platform-admin') },
          status,
        ),
    };

    if (rest === '' || rest === '/') return ctx.redirect(`${home}/users`);
    const page = Object.hasOwn(PAGES, section) ? PAGES[section] : undefined;
    const [, id, action] = rest.split('/');
    if (page && (!page.platform || authority.kind === 'platform-admin') && !(form && page.readOnly) && (form || !action)) {
      if (id === undefined) return page.list(request, form);
      const item = decoded(id);
      if (page.one && item && (!form || (action && page.actions?.includes(action)))) return page.one(request, item, action, form);
    }
    if (rest === 'audit.csv' && !form) return auditCsv(request);
    return plain(ctx, tenant, 404, 'Not found', 'There is no such console page.', { href: `${home}/users`, label: 'Back to the console' });
  }

  return async function consoleMiddleware(ctx: Context, next: Next) {
    const m = PATH.exec(ctx.path);
    if (!m) return next();
    try {
      await serve(ctx, m[1]!, m[2] ?? '');
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') return plain(ctx, null, 404, 'Not found', 'There is no such page.');
      // a refusal of a request no form shows (a forged cursor, a filter no page offers): words, not a 500
      if (err instanceof AppError && (err.code === 'invalid_request' || err.code === 'forbidden')) {
        return plain(ctx, null, err.status, 'Not accepted', `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`);
      }
      // anything else is a dependency that failed (the store, the database) or a bug: logged, and a
      // 503 to retry, as the admin API answers it (never a 500, never its details)
      if (!(err instanceof AppError && err.code === 'unavailable')) deps.onServerError(err as Error);
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return plain(
        ctx,
        null,
        503,
        'Temporarily unavailable',
        'The console could not do this just now. Try again in a moment; if it keeps happening, tell your operator.',
      );
    }
  };
}
