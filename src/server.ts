/**
 * The Koa app: `/t/:tenant/*` goes to that tenant's oidc-provider; `/healthz` and `/readyz` for
 * operators; everything else is a JSON 404. The issuer and every advertised URL come from
 * PUBLIC_URL: the request's Host and X-Forwarded-* headers are overwritten before the provider
 * sees the request, so a forged Host can never change what discovery advertises.
 */
import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import Koa from 'koa';
import type { Database } from './db/database.ts';
import type { Logger } from './observability/log.ts';
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
}

export function createServer(deps: ServerDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  const base = new URL(deps.publicUrl);
  const basePath = base.pathname.replace(/\/$/, '');
  const forwardedProto = base.protocol.slice(0, -1);

  // request id, one log line per request, and the only place that writes error bodies
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const path = ctx.path;
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } catch (err) {
      const e = err instanceof AppError ? err : undefined;
      const status = e?.status ?? 503;
      if (!e) deps.log.error({ err: { message: (err as Error).message, name: (err as Error).name }, requestId }, 'request failed');
      ctx.status = status;
      if (status === 503) ctx.set('Retry-After', '5');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: e?.code ?? 'temporarily_unavailable', error_description: e?.message ?? 'the service is temporarily unavailable' };
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      deps.log.info({ requestId, method: ctx.method, path, tenant: ctx.state.tenant, status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  });

  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      try {
        await deps.db.ping();
        ctx.body = { status: 'ready', database: 'ok' };
      } catch {
        ctx.status = 503;
        ctx.body = { status: 'not_ready', database: 'unreachable' };
      }
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
    ctx.state.tenant = slug;
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
