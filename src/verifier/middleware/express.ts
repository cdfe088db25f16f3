/**
 * Express (and plain node:http / Connect) middleware. Typed structurally: express is not a
 * dependency. Answers with `res.statusCode`, `res.setHeader` and `res.end` only.
 *
 * @example
 * ```ts
 * app.post('/simulate', expressAuth(verifier, { roles: ['analyst'], scopes: ['simulate:run'] }), (req, res) => {
 *   res.json({ tenant: req.auth.tenant_id });
 * });
 * ```
 */
import { isVerifierError, VerifierError } from '../errors.ts';
import type { AccessTokenClaims, Verifier } from '../types.ts';
import { answerFor, bearerToken, enforce, type AuthOptions } from './bearer.ts';

/** the part of a request the middleware uses; `auth` is set on success */
export interface ExpressRequestLike {
  headers: { authorization?: string | undefined };
  auth?: AccessTokenClaims;
}

/** the part of a response the middleware uses */
export interface ExpressResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export type ExpressNext = (err?: unknown) => void;
export type ExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void;

function answer(res: ExpressResponseLike, err: VerifierError, realm: string | undefined): void {
  const { status, headers, body } = answerFor(err, realm);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/**
 * Verifies `Authorization: Bearer <token>`, puts the claims on `req.auth`, enforces the optional
 * scopes/roles, and answers 401 / 403 / 503 itself (RFC 6750) when they fail.
 */
export function expressAuth(verifier: Verifier, options: AuthOptions = {}): ExpressMiddleware {
  return function tesseraExpressAuth(req, res, next) {
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch (err) {
      return answer(res, err as VerifierError, options.realm);
    }
    verifier.verify(token).then(
      ({ payload }) => {
        try {
          enforce(payload, options);
        } catch (err) {
          return answer(res, err as VerifierError, options.realm);
        }
        req.auth = payload;
        next();
      },
      (err: unknown) => (isVerifierError(err) ? answer(res, err, options.realm) : next(err)),
    );
  };
}

/** Requires scopes/roles of a token already verified by {@link expressAuth} (per route). */
export function expressRequire(options: AuthOptions): ExpressMiddleware {
  return function tesseraExpressRequire(req, res, next) {
    try {
      if (!req.auth) throw new VerifierError('ERR_NO_TOKEN', 'a bearer token is required');
      enforce(req.auth, options);
    } catch (err) {
      return answer(res, err as VerifierError, options.realm);
    }
    next();
  };
}
