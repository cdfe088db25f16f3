/**
 * Koa middleware. Typed structurally (no dependency on koa): works with Koa 2 and 3.
 *
 * @example
 * ```ts
 * app.use(koaAuth(verifier));                                   // 401 unless a valid token
 * router.post('/simulate', koaRequire({ roles: ['analyst'], scopes: ['simulate:run'] }), handler);
 * // handler: ctx.state.auth is the verified AccessTokenClaims
 * ```
 */
import { isVerifierError, VerifierError } from '../errors.ts';
import type { AccessTokenClaims, Verifier } from '../types.ts';
import { answerFor, bearerToken, enforce, type AuthOptions } from './bearer.ts';

/** the part of a Koa context the middleware uses */
export interface KoaContextLike {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: object;
}

/** `ctx.state` after {@link koaAuth}: use as Koa's state type parameter */
export interface KoaAuthState {
  auth: AccessTokenClaims;
}

export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

function answer(ctx: KoaContextLike, err: VerifierError, realm: string | undefined): void {
  const { status, headers, body } = answerFor(err, realm);
  ctx.status = status;
  for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
  ctx.body = body;
}

/**
 * Verifies `Authorization: Bearer <token>`, puts the claims on `ctx.state.auth`, enforces the
 * optional scopes/roles, and answers 401 / 403 / 503 itself (RFC 6750) when they fail.
 */
export function koaAuth(verifier: Verifier, options: AuthOptions = {}): KoaMiddleware {
  return async function tesseraKoaAuth(ctx, next) {
    let claims: AccessTokenClaims;
    try {
      claims = (await verifier.verify(bearerToken(ctx.get('authorization')))).payload;
      enforce(claims, options);
    } catch (err) {
      if (isVerifierError(err)) return answer(ctx, err, options.realm);
      throw err;
    }
    (ctx.state as Partial<KoaAuthState>).auth = claims;
    await next();
  };
}

/** Requires scopes/roles of a token already verified by {@link koaAuth} (per route). */
export function koaRequire(options: AuthOptions): KoaMiddleware {
  return async function tesseraKoaRequire(ctx, next) {
    const claims = (ctx.state as Partial<KoaAuthState>).auth;
    try {
      if (!claims) throw new VerifierError('ERR_NO_TOKEN', 'a bearer token is required');
      enforce(claims, options);
    } catch (err) {
      if (isVerifierError(err)) return answer(ctx, err, options.realm);
      throw err;
    }
    await next();
  };
}
