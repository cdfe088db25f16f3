/**
 * The one middleware that owns a request, for the Koa app (admin API, operations endpoints,
 * unknown paths) and, as their first middleware, for every tenant's oidc-provider: its id
 * (X-Request-Id accepted or generated, echoed), the request scope that deeper code reports into
 * (request-scope.ts), the one log line per request (route, never the query string or a body), the
 * HTTP metrics, and the answer to anything that escaped: a 503 JSON body without details.
 *
 * Tenant requests normally reach their provider without passing through the Koa app (see
 * src/server.ts); one that did (the first request of a tenant being loaded) is marked, so it is
 * observed once.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import { writeOAuthError } from '../http/oauth-error.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { requestScope, type RequestScope } from '../http/request-scope.ts';

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** path segments that are identifiers (interaction uids, ids), replaced by `:id` in routes */
const ID_SEGMENT = /^(?=.*\d)[\w-]{12,}$|^[\w-]{24,}$/;
const OBSERVED = Symbol('tessera.observed');
const REQUEST_ID = /^[\w.-]{1,128}$/;

/** the route of a tenant request, relative to /t/<tenant>: bounded, no identifiers */
export function tenantRoute(rest: string): string {
  return rest
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? ':id' : s))
    .join('/')
    .slice(0, 100);
}

export interface HttpObserver {
  /** for the Koa app */
  app: Middleware;
  /** for a tenant's provider (paths relative to its issuer); also attaches its token metrics */
  tenant(slug: string, provider: Provider): Middleware;
}

export function createHttpObserver(deps: { log: Logger; metrics: Metrics }): HttpObserver {
  // which cluster worker answered: lets operators (and the cluster test) tell workers apart
  const worker = cluster.isWorker ? String(process.pid) : undefined;
  // tenant routes seen so far (bounded: identifiers are already replaced)
  const routes = new Map<string, string>();
  const routeOfTenantPath = (path: string) => {
    let route = routes.get(path);
    if (route === undefined) {
      route = tenantRoute(path);
      if (routes.size < 1000) routes.set(path, route);
    }
    return route;
  };

  /** the one OAuth writer answers what `next` throws; an unexpected error is counted and logged */
  async function answerErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (writeOAuthError(ctx, err)) {
        deps.metrics.observeError(err);
        deps.log.error({ err: { message: (err as Error).message, name: (err as Error).name }, requestId: ctx.state.requestId }, 'request failed');
      }
    }
  }

  async function observe(ctx: Context, next: Next, tenant: string | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    const path = ctx.path;
    (ctx.req as IncomingMessage & { [OBSERVED]?: true })[OBSERVED] = true;
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    if (worker) ctx.set('X-Tessera-Worker', worker);
    if (tenant) {
      ctx.state.tenant = tenant;
      ctx.state.tenantRoute = routeOfTenantPath(path);
    }
    const scope: RequestScope = { requestId, tenant, address: ctx.ip, onAudit: (type) => deps.metrics.audit(scope.tenant, type) };
    try {
      await requestScope.run(scope, () => answerErrors(ctx, next));
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const slug = ctx.state.tenant as string | undefined;
      const tRoute = ctx.state.tenantRoute as string | undefined;
      const route = routeOf(ctx, path, tRoute);
      const area = slug ? 'oidc' : path === '/admin' || path.startsWith('/admin/') ? 'admin' : OPS_PATHS.has(path) ? 'ops' : 'other';
      deps.metrics.request(area, status, slug, route);
      if (slug && tRoute) deps.metrics.tenantRequest(ctx.req, slug, tRoute, status, seconds);
      // probes hit these every few seconds: keep them out of the info stream
      const level = area === 'ops' && status < 400 ? 'debug' : 'info';
      if (deps.log.isLevelEnabled(level)) {
        deps.log[level]({ requestId, method: ctx.method, route, tenant: slug, status, durationMs: Math.round(seconds * 10_000) / 10, ip: ctx.ip }, 'request');
      }
    }
  }

  return {
    app: (ctx, next) => observe(ctx, next, undefined),
    tenant: (slug, provider) => {
      deps.metrics.observeProvider(provider);
      // a request that came through the Koa app (a tenant not yet in memory) is logged there, but
      // the provider is its own Koa app: what its middleware throws is answered here, by the writer
      return (ctx, next) => ((ctx.req as { [OBSERVED]?: true })[OBSERVED] ? answerErrors(ctx, next) : observe(ctx, next, slug));
    },
  };
}

/** the route for logs and metrics: a template, never raw identifiers or the query string */
function routeOf(ctx: Context, path: string, tenantRoute: string | undefined): string {
  if (tenantRoute) return `/t/:tenant${tenantRoute === '/' ? '' : tenantRoute}`;
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string' && !matched.includes('*')) return matched;
  if (OPS_PATHS.has(path)) return path;
  if (path.startsWith('/t/')) return '/t/:tenant';
  return path.startsWith('/admin') ? '/admin/*' : '*';
}
