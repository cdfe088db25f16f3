/**
 * Writes one server-rendered page with the headers every page gets: a strict Content-Security-
 * Policy (nothing but the same-origin stylesheet; forms may post here and, through redirects,
 * to the client's registered redirect origins), no framing, no caching, no referrer.
 */
import type { Context } from 'koa';
import { EMPTY, render, type SafeHtml } from './views.ts';

export interface PageTenant {
  name: string;
  /** path of the tenant's issuer, e.g. `/t/dept` */
  basePath: string;
}

export interface PageOptions {
  status?: number;
  title: string;
  content: SafeHtml;
  /** origins a form on this page may end up at after redirects (the client's redirect URIs) */
  formTargets?: readonly string[];
  /** the page runs the passkey module (the only script there is: CSP `script-src 'self'`) */
  passkeys?: boolean;
  /** a wider card (the account page) */
  wide?: boolean;
}

export const STYLESHEET_PATH = '/assets/tessera.css';
export const WEBAUTHN_SCRIPT_PATH = '/assets/webauthn.js';

export function originsOf(uris: readonly string[]): string[] {
  const out = new Set<string>();
  for (const uri of uris) {
    const u = URL.parse(uri);
    if (u && (u.protocol === 'https:' || u.protocol === 'http:')) out.add(u.origin);
  }
  return [...out];
}

export function securityHeaders(ctx: Context, formTargets: readonly string[] = [], script = false) {
  const formAction = ["'self'", ...formTargets].join(' ');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none';${script ? " script-src 'self';" : ''} style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

export function sendPage(ctx: Context, tenant: PageTenant, options: PageOptions): void {
  securityHeaders(ctx, options.formTargets, options.passkeys === true);
  ctx.status = options.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = render('layout.html', {
    title: options.title,
    tenant: tenant.name,
    stylesheet: `${tenant.basePath}${STYLESHEET_PATH}`,
    scripts: options.passkeys ? render('script.html', { src: `${tenant.basePath}${WEBAUTHN_SCRIPT_PATH}` }) : EMPTY,
    cardClass: options.wide ? 'card wide' : 'card',
    content: options.content,
  }).html;
}

/**
 * A page of an interaction (login, consent, the second-factor steps). Its forms end, through
 * redirects, at the client's redirect URI, so the CSP's form-action always names the client's
 * origins (a step page without them left Chromium stuck before the redirect; found in review).
 */
export function sendInteractionPage(
  ctx: Context,
  ic: { deps: { page: PageTenant }; client: { redirectOrigins: readonly string[] } },
  options: Omit<PageOptions, 'formTargets'>,
): void {
  sendPage(ctx, ic.deps.page, { ...options, formTargets: ic.client.redirectOrigins });
}
