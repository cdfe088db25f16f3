/**
 * `tessera/verifier`: validate Tessera access tokens in a downstream API (depends on jose only).
 *
 * ```ts
 * import { createVerifier, koaAuth, requireScopes } from 'tessera/verifier';
 * const verifier = createVerifier({ issuer: 'https://id.example.org/t/health-a', audience: 'https://epi.example.org/api' });
 * app.use(koaAuth(verifier, { scopes: ['outbreaks:read'] }));
 * ```
 *
 * @packageDocumentation
 */
export { createVerifier } from './verify.ts';
export { requireScopes, requireRoles, scopesOf, rolesOf } from './claims.ts';
export { VerifierError, isVerifierError, type VerifierErrorCode, type BearerErrorCode } from './errors.ts';
export { koaAuth, koaRequire, type KoaAuthState, type KoaContextLike, type KoaMiddleware } from './middleware/koa.ts';
export {
  expressAuth,
  expressRequire,
  type ExpressMiddleware,
  type ExpressNext,
  type ExpressRequestLike,
  type ExpressResponseLike,
} from './middleware/express.ts';
export { bearerToken, type AuthOptions } from './middleware/bearer.ts';
export { DEFAULT_ALGORITHMS } from './options.ts';
export type {
  AccessTokenClaims,
  AllowedAlgorithm,
  ClientCredentials,
  IntrospectionOptions,
  Verifier,
  VerifierOptions,
  VerifyResult,
} from './types.ts';
