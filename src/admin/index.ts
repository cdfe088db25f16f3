/**
 * The admin API at `${PUBLIC_URL}/admin`: routes → services → repositories. This module turns the
 * route table into a Koa router: authenticate the bearer token, then the call (dispatch.ts:
 * authorize, validate, call the service, as for the CLI), then answer.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Services } from '../services/index.ts';
import type { TenantContext } from '../tenants/context.ts';
import type { TenantPool } from '../tenants/pool.ts';
import { actorOf, createAuthenticator } from './auth.ts';
import { readJson } from './body.ts';
import { createDispatcher } from './dispatch.ts';
import { buildOpenApi } from './openapi.ts';
import { problemMiddleware } from './problem.ts';
import type { AdminRoute } from './route.ts';
import { adminRoutes } from './routes.ts';

export interface AdminDeps {
  publicUrl: string;
  services: Services;
  pool: TenantPool;
  /** a tenant's context from its row alone (core.tenant), for a tenant the pool cannot build */
  contextOf: (slug: string) => Promise<TenantContext | null>;
  /** false while the database does not answer: every admin call is a 503 then */
  databaseUp?: () => boolean;
  log: Logger;
}

export function createAdminRouter(deps: AdminDeps): { router: Router; routes: AdminRoute[] } {
  /**
   * The pool's tenant; when it cannot be built (no active key, a key that no longer opens), its
   * context from the row: the admin API must still reach a broken tenant to repair it (rotate its
   * keys, disable a user). A database that does not answer fails both: 503.
   */
  async function tenantFor(slug: string): Promise<TenantContext | null> {
    try {
      return await deps.pool.get(slug);
    } catch (err) {
      const context = await deps.contextOf(slug);
      if (!context) throw err;
      deps.log.warn(
        { tenant: slug, err: { name: (err as Error).name, message: (err as Error).message } },
        'tenant cannot be served: the admin API acts on its row',
      );
      return context;
    }
  }

  const routes = adminRoutes();
  const call = createDispatcher({ services: deps.services, tenantFor });
  const document = buildOpenApi(routes, deps.publicUrl);
  const authenticate = createAuthenticator(deps);
  const router = new Router({ prefix: '/admin' });
  router.use(problemMiddleware(deps.log));

  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });

  for (const route of routes) {
    const koaPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    router[route.method](koaPath, async (ctx: Context) => {
      if (deps.databaseUp && !deps.databaseUp()) throw new AppError('unavailable', 'the service is temporarily unavailable');
      const principal = await authenticate(ctx);
      const result = await call(route, actorOf(principal), {
        params: ctx.params as Record<string, string>,
        query: ctx.query,
        body: () => readJson(ctx),
      });
      ctx.status = route.status;
      if (route.status !== 204) ctx.body = result;
      ctx.set('Cache-Control', 'no-store');
    });
  }
  // anything else under /admin: a problem, not the server's generic 404; a path that exists with
  // other methods is a 405 naming them (RFC 9110 §15.5.6)
  const shapes = [
    { pattern: /^\/admin\/openapi\.json$/, method: 'GET' },
    ...routes.map((r) => ({ pattern: new RegExp(`^/admin${r.path.replace(/\{\w+\}/g, '[^/]+')}$`), method: r.method.toUpperCase() })),
  ];
  router.all('/{*rest}', (ctx) => {
    const allowed = new Set(shapes.filter((s) => s.pattern.test(ctx.path)).map((s) => s.method));
    if (allowed.size) {
      if (allowed.has('GET')) allowed.add('HEAD');
      throw new AppError('method_not_allowed', `${ctx.method} is not allowed here`, { allow: [...allowed].sort() });
    }
    throw new AppError('not_found', 'no such admin endpoint');
  });
  return { router, routes };
}
