/**
 * The admin API at `${PUBLIC_URL}/admin`: routes → services → repositories. This module turns the
 * route table into a Koa router: authenticate, authorize, validate (zod), call, answer.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Services } from '../services/index.ts';
import type { TenantContext } from '../tenants/context.ts';
import type { TenantPool } from '../tenants/pool.ts';
import { SLUG_PATTERN } from '../contract.ts';
import { authorize } from '../services/policy.ts';
import { actorOf, createAuthenticator } from './auth.ts';
import { UNSAFE_CHARS, readJson } from './body.ts';
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

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const res = schema.safeParse(value ?? (where === 'query' ? {} : undefined));
  if (!res.success) {
    throw new AppError('invalid_request', `the ${where} is invalid`, {
      errors: res.error.issues.map((i) => ({ path: i.path.join('.') || where, message: i.message })),
    });
  }
  return res.data;
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

  const routes = adminRoutes(deps.services);
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
      const actor = actorOf(principal);
      const params = ctx.params as Record<string, string>;
      // the policy's first decision: may this actor perform this operation in this tenant at all?
      // (before the tenant is looked up: no existence oracle)
      authorize(actor, { operation: route.operation, ...(params.t !== undefined ? { tenant: { slug: params.t } } : {}) });
      // identifiers that cannot name anything are not looked up (and never reach SQL)
      if (params.t !== undefined && !SLUG_PATTERN.test(params.t)) throw new AppError('not_found', 'tenant not found');
      if (Object.values(params).some((v) => v.length > 200 || UNSAFE_CHARS.test(v))) throw new AppError('not_found', 'not found');
      if (
        Object.values(ctx.query)
          .flat()
          .some((v) => typeof v === 'string' && UNSAFE_CHARS.test(v))
      ) {
        throw new AppError('invalid_request', 'query parameters must not contain control characters');
      }
      const query = route.query ? parse(route.query, ctx.query, 'query') : undefined;
      const raw = route.method === 'post' || route.method === 'patch' ? await readJson(ctx) : undefined;
      const body = route.body ? parse(route.body, raw, 'body') : undefined;
      // the tenant acted on, from the pool: built once, not per call
      const tenant = params.t !== undefined ? await tenantFor(params.t) : undefined;
      if (tenant === null) throw new AppError('not_found', `tenant "${params.t}" not found`);
      const result = await route.handler({ koa: ctx, principal, actor, tenant }, { params, query, body });
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
