/**
 * The HTTP entry point. `/t/<tenant>/*` goes to that tenant's oidc-provider: straight from the
 * Node request when the tenant is in memory (one Koa context per request, the provider's own),
 * otherwise through the Koa app, which loads it (or answers 404 / 503). The Koa app also serves
 * `/admin/*`, `/healthz`, `/readyz` and `/metrics` (never rate-limited, no secrets); everything
 * else is a JSON 404. The issuer and every advertised URL come from PUBLIC_URL: the request's Host
 * and X-Forwarded-* headers are overwritten before the provider sees the request, so a forged
 * Host can never change what discovery advertises. Request ids, logs and metrics: see
 * observability/http.ts (the same middleware runs first in the Koa app and in every provider).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type Router from '@koa/router';
import Koa from 'koa';
import type { Health } from './observability/health.ts';
import { tenantRoute, type HttpObserver } from './observability/http.ts';
import type { Metrics } from './observability/metrics.ts';
import { requestScope } from './http/request-scope.ts';
import { SLUG_PATTERN } from './contract.ts';
import type { ServedTenant as Tenant } from './tenants/serve.ts';
import { OAuthError } from './http/oauth-error.ts';
import type { TenantPool } from './tenants/pool.ts';

export interface ServerDeps {
  /** the admin API router (mounted at /admin) */
  admin: Router;
  /** the admin console (`/t/<tenant>/console/…`), served by this app rather than the tenant's provider */
  console: Koa.Middleware;
  /** keys that sign this app's cookies (the console's sign-in cookie), derived from the key encryption key */
  cookieKeys: string[];
  publicUrl: string;
  /** take the client address from X-Forwarded-For (TRUST_PROXY), `trustProxyHops` entries from the right */
  trustProxy: boolean;
  trustProxyHops: number;
  pool: TenantPool;
  observer: HttpObserver;
  metrics: Metrics;
  health: Health;
  /** METRICS_TOKEN: when set, /metrics requires `Authorization: Bearer <it>` */
  metricsToken?: string | undefined;
}

/** `/t/<slug><rest>?<query>` of a request target in origin form */
const TENANT_URL = /^\/t\/([^/?]+)([^?]*)(?:\?(.*))?$/s;

/** the rest of a tenant URL that is the console's, not the provider's */
const CONSOLE_PATH = /^\/console(\/|$)/;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The client's address, worked out once for the whole request (logs, audit, brute-force
 * counters, every provider): the peer; or, behind `hops` trusted proxies, the X-Forwarded-For entry
 * `hops` places from the right. Each proxy appends the address it received the request from, so
 * entries to the left of that one are whatever the client chose to send and are never used.
 * Koa's default (the leftmost entry) let a client pick its address and escape its lock.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean, hops: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!trustProxy) return peer;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (!entries.length) return peer;
  // fewer entries than proxies: the leftmost was still written by a proxy of ours
  const chosen = entries[Math.max(0, entries.length - hops)]!;
  return isIP(chosen) ? chosen : peer;
}

/** constant-time check of `Authorization: Bearer <token>` */
function bearerMatches(header: string, expected: Buffer): boolean {
  const m = /^Bearer (\S+)$/i.exec(header);
  return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null;
}

export function createServer(deps: ServerDeps): { handle: (req: IncomingMessage, res: ServerResponse) => void } {
  // the forwarded headers are Tessera's own by the time Koa reads them (see `handle`)
  const app = new Koa({ proxy: true });
  app.keys = deps.cookieKeys;
  const base = new URL(deps.publicUrl);
  const basePath = base.pathname.replace(/\/$/, '');
  const forwardedProto = base.protocol.slice(0, -1);
  const metricsDigest = deps.metricsToken ? digest(deps.metricsToken) : undefined;

  /** hands a request to its tenant's provider, as if that provider were served at PUBLIC_URL */
  const forward = (tenant: Tenant, slug: string, rest: string, query: string | undefined, req: IncomingMessage, res: ServerResponse) => {
    req.url = (rest || '/') + (query ? `?${query}` : '');
    (req as { originalUrl?: string }).originalUrl = `${basePath}/t/${slug}${req.url}`;
    return tenant.handle(req, res);
  };

  app.use(deps.observer.app);

  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = deps.health.liveness();
      return;
    }
    if (ctx.path === '/readyz') {
      const { ready, body } = await deps.health.readiness();
      ctx.set('Cache-Control', 'no-store');
      ctx.status = ready ? 200 : 503;
      ctx.body = body;
      return;
    }
    if (ctx.path === '/metrics') {
      if (metricsDigest && !bearerMatches(ctx.get('authorization'), metricsDigest)) {
        throw new OAuthError(401, 'unauthorized', 'a Bearer token (METRICS_TOKEN) is required', { 'WWW-Authenticate': 'Bearer realm="tessera-metrics"' });
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
      return;
    }
    await next();
  });

  app.use(deps.console);

  // tenants that are not in memory yet (or unknown, or unreachable)
  app.use(async (ctx, next) => {
    const m = /^\/t\/([^/]+)(\/.*)?$/.exec(ctx.path);
    if (!m) return next();
    const slug = m[1]!;
    const tenant = SLUG_PATTERN.test(slug) ? await deps.pool.get(slug) : null;
    if (!tenant) throw new OAuthError(404, 'not_found', 'unknown tenant');
    ctx.state.tenant = slug;
    ctx.state.tenantRoute = tenantRoute(m[2] ?? '/');
    const scope = requestScope.getStore();
    if (scope) scope.tenant = slug;
    ctx.respond = false;
    await forward(tenant, slug, m[2] ?? '/', ctx.querystring, ctx.req, ctx.res);
  });

  app.use(deps.admin.routes());

  app.use(() => {
    throw new OAuthError(404, 'not_found', 'no such endpoint');
  });

  // errors are answered above; keep Koa from printing them (and anything they carry) to stderr
  app.silent = true;
  const callback = app.callback();
  return {
    handle(req, res) {
      // the forwarded headers every layer trusts are set here and only here: the host and scheme
      // of PUBLIC_URL (a forged Host never changes what discovery advertises) and the one address
      req.headers['x-forwarded-for'] = clientAddress(req, deps.trustProxy, deps.trustProxyHops);
      req.headers['x-forwarded-host'] = base.host;
      req.headers['x-forwarded-proto'] = forwardedProto;
      const m = req.url?.startsWith('/t/') ? TENANT_URL.exec(req.url) : null;
      const tenant = m && !CONSOLE_PATH.test(m[2]!) ? deps.pool.peek(m[1]!) : undefined;
      if (!tenant) return void callback(req, res);
      void forward(tenant, m![1]!, m![2]!, m![3], req, res);
    },
  };
}

/**
 * Graceful stop of an HTTP server: stop accepting, let in-flight requests finish, close
 * keep-alive connections as soon as they are idle, and after `timeoutMs` close whatever is left.
 * Resolves true when everything finished in time.
 */
export function drainHttpServer(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (clean: boolean) => {
      if (done) return;
      done = true;
      clearInterval(idle);
      clearTimeout(deadline);
      resolve(clean);
    };
    // a keep-alive connection becomes idle once its in-flight response is written
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish(false);
    }, timeoutMs);
    idle.unref();
    deadline.unref();
    if (!server.listening) {
      server.closeAllConnections();
      finish(true);
      return;
    }
    server.close(() => finish(true));
    server.closeIdleConnections();
  });
}
