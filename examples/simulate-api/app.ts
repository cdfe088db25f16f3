/**
 * The epidemic API as a downstream Koa service protected by tessera/verifier:
 *   GET  /outbreaks       scope outbreaks:read       → the caller tenant's outbreaks only
 *   GET  /outbreaks/:id   scope outbreaks:read       → 404 for another tenant's outbreak
 *   POST /simulate        role analyst + simulate:run → runs the SIR model on one of its outbreaks
 */
import Router from '@koa/router';
import Koa from 'koa';
import { createVerifier, koaAuth, koaRequire, type KoaAuthState, type Verifier } from '../../src/verifier/index.ts';
import { createOutbreakStore, simulate, type Outbreak } from './data.ts';

export interface SimulateApiOptions {
  /** the accepted Tessera issuers (one per tenant) */
  issuers: readonly string[];
  /** this API's resource identifier (the `aud` of its tokens) */
  audience: string;
  /** the data set (defaults to the seeded outbreaks) */
  outbreaks?: readonly Outbreak[];
  /** a prepared verifier (defaults to one built from issuers and audience) */
  verifier?: Verifier;
}

async function readJson(req: Koa.Request['req'], limit = 16 * 1024): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > limit) throw Object.assign(new Error('body too large'), { status: 413, expose: true });
  }
  if (raw === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw Object.assign(new Error('body must be JSON'), { status: 400, expose: true });
  }
}

/** builds the Koa app (not listening); the caller decides where it runs */
export function createSimulateApi(options: SimulateApiOptions): Koa<KoaAuthState> {
  const verifier = options.verifier ?? createVerifier({ issuers: options.issuers, audience: options.audience });
  const store = createOutbreakStore(options.outbreaks);
  const app = new Koa<KoaAuthState>();
  const router = new Router<KoaAuthState>();

  // every route needs a valid token whose tenant is the one its issuer speaks for
  app.use(koaAuth(verifier, { realm: 'simulate-api' }));
  app.use(async (ctx, next) => {
    const { iss, tenant_id: tenant } = ctx.state.auth;
    if (typeof tenant !== 'string' || !iss.endsWith(`/t/${tenant}`)) {
      ctx.status = 403;
      ctx.body = { error: 'insufficient_scope', error_description: 'the token names no tenant of its issuer' };
      return;
    }
    await next();
  });

  router.get('/outbreaks', koaRequire({ scopes: ['outbreaks:read'] }), (ctx) => {
    ctx.body = { tenant: ctx.state.auth.tenant_id, outbreaks: store.forTenant(ctx.state.auth.tenant_id!).list() };
  });

  router.get('/outbreaks/:id', koaRequire({ scopes: ['outbreaks:read'] }), (ctx) => {
    const outbreak = store.forTenant(ctx.state.auth.tenant_id!).get(ctx.params.id ?? '');
    if (!outbreak) return ctx.throw(404, 'no such outbreak');
    ctx.body = outbreak;
  });

  router.post('/simulate', koaRequire({ roles: ['analyst'], scopes: ['simulate:run'] }), async (ctx) => {
    const body = (await readJson(ctx.req)) as { outbreakId?: unknown; days?: unknown; r0?: unknown };
    const days = body.days === undefined ? 60 : body.days;
    if (typeof body.outbreakId !== 'string') return ctx.throw(400, 'outbreakId is required');
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) return ctx.throw(400, 'days must be 1..3650');
    if (body.r0 !== undefined && (typeof body.r0 !== 'number' || body.r0 <= 0 || body.r0 > 30)) return ctx.throw(400, 'r0 must be in (0, 30]');
    const outbreak = store.forTenant(ctx.state.auth.tenant_id!).get(body.outbreakId as string);
    if (!outbreak) return ctx.throw(404, 'no such outbreak');
    ctx.body = { requestedBy: ctx.state.auth.sub, ...simulate(outbreak, days as number, body.r0 as number | undefined) };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
