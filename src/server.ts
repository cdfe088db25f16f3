/**
 * The Koa app: `/t/:tenant/*` goes to that tenant's oidc-provider; `/admin/*` to the admin API;
 * `/healthz`, `/readyz` and `/metrics` for operators (never rate-limited, no secrets); everything
 * else is a JSON 404. The issuer and every advertised URL come from PUBLIC_URL: the request's Host
 * and X-Forwarded-* headers are overwritten before the provider sees the request, so a forged Host
 * can never change what discovery advertises.
 *
 * The first middleware owns the request: its id (X-Request-Id accepted or generated, echoed), the
 * request scope that deeper code reports into (see observability/request-scope.ts), the one log
 * line per request (route, never the query string or a body), the HTTP metrics, and the only
 * place that writes error bodies outside the provider and the admin API.
 */
import cluster from 'node:cluster';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { Database } from './db/database.ts';
import type { Health } from './observability/health.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';
import { requestScope, type RequestScope } from './observability/request-scope.ts';
import { SLUG_PATTERN } from './services/deps.ts';
import type { TenantPool } from './tenants/pool.ts';
import { AppError } from './errors.ts';

export interface ServerDeps {
  /** the admin API router (mounted at /admin) */
  admin: Router;
  publicUrl: string;
  /** take the client address from X-Forwarded-For (TRUST_PROXY) */
  trustProxy: boolean;
  pool: TenantPool;
  db: Database;
  log: Logger;
  metrics: Metrics;
  health: Health;
  /** METRICS_TOKEN: when set, /metrics requires `Authorization: Bearer <it>` */
  metricsToken?: string | undefined;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** path segments that are identifiers (interaction uids, ids), replaced by `:id` in routes */
const ID_SEGMENT = /^(?=.*\d)[\w-]{12,}$|^[\w-]{24,}$/;

/** the route of a tenant request, relative to /t/<tenant>: bounded, no identifiers */
function tenantRoute(rest: string): string {
  return rest
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? ':id' : s))
    .join('/')
    .slice(0, 100);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** constant-time check of `Authorization: Bearer <token>` */
function bearerMatches(header: string, expected: Buffer): boolean {
  const m = /^Bearer (\S+)$/i.exec(header);
  return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null;
}

export function createServer(deps: ServerDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  const base = new URL(deps.publicUrl);
  const basePath = base.pathname.replace(/\/$/, '');
  const forwardedProto = base.protocol.slice(0, -1);
  const metricsDigest = deps.metricsToken ? digest(deps.metricsToken) : undefined;
  // which cluster worker answered: lets operators (and the cluster test) tell workers apart
  const worker = cluster.isWorker ? String(process.pid) : undefined;

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const path = ctx.path;
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    if (worker) ctx.set('X-Tessera-Worker', worker);
    const scope: RequestScope = { requestId, onAudit: (type) => deps.metrics.audit(scope.tenant, type) };
    try {
      await requestScope.run(scope, next);
    } catch (err) {
      const e = err instanceof AppError ? err : undefined;
      const status = e?.status ?? 503;
      if (!e) {
        deps.metrics.observeError(err);
        deps.log.error({ err: { message: (err as Error).message, name: (err as Error).name }, requestId }, 'request failed');
      }
      ctx.status = status;
      if (status === 503) ctx.set('Retry-After', '5');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: e?.code ?? 'temporarily_unavailable', error_description: e?.message ?? 'the service is temporarily unavailable' };
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const tenant = ctx.state.tenant as string | undefined;
      const route = routeOf(ctx, path);
      const area = tenant ? 'oidc' : path === '/admin' || path.startsWith('/admin/') ? 'admin' : OPS_PATHS.has(path) ? 'ops' : 'other';
      deps.metrics.request(area, status, tenant, route);
      if (tenant && ctx.state.tenantRoute) deps.metrics.tenantRequest(ctx.req, tenant, ctx.state.tenantRoute as string, status, seconds);
      const line = { requestId, method: ctx.method, route, tenant, status, durationMs: Math.round(seconds * 10_000) / 10, ip: ctx.ip };
      // probes hit these every few seconds: keep them out of the info stream
      if (area === 'ops' && status < 400) deps.log.debug(line, 'request');
      else deps.log.info(line, 'request');
    }
  });

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
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="tessera-metrics"');
        ctx.body = { error: 'unauthorized', error_description: 'a Bearer token (METRICS_TOKEN) is required' };
        return;
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
      return;
    }
    await next();
  });

  app.use(async (ctx, next) => {
    const m = /^\/t\/([^/]+)(\/.*)?$/.exec(ctx.path);
    if (!m) return next();
    const slug = m[1]!;
    const tenant = SLUG_PATTERN.test(slug) ? await deps.pool.get(slug) : null;
    if (!tenant) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'unknown tenant' };
      return;
    }
    deps.metrics.observeProvider(tenant.provider);
    ctx.state.tenant = slug;
    ctx.state.tenantRoute = tenantRoute(m[2] ?? '/');
    const scope = requestScope.getStore();
    if (scope) scope.tenant = slug;
    const rest = (m[2] ?? '/') + (ctx.querystring ? `?${ctx.querystring}` : '');
    const { req } = ctx;
    req.url = rest;
    (req as { originalUrl?: string }).originalUrl = `${basePath}/t/${slug}${rest}`;
    req.headers['x-forwarded-host'] = base.host;
    req.headers['x-forwarded-proto'] = forwardedProto;
    req.headers['x-forwarded-for'] = ctx.ip;
    ctx.respond = false;
    await tenant.handle(req, ctx.res);
  });

  app.use(deps.admin.routes());

  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
  });

  // errors are answered above; keep Koa from printing them (and anything they carry) to stderr
  app.silent = true;
  return app;
}

/** the route for logs and metrics: a template, never raw identifiers or the query string */
function routeOf(ctx: Context, path: string): string {
  if (ctx.state.tenantRoute) return `/t/:tenant${ctx.state.tenantRoute === '/' ? '' : (ctx.state.tenantRoute as string)}`;
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string' && !matched.includes('*')) return matched;
  if (OPS_PATHS.has(path)) return path;
  if (path.startsWith('/t/')) return '/t/:tenant';
  return path.startsWith('/admin') ? '/admin/*' : '*';
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
