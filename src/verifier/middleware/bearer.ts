/**
 * What the Koa and Express middleware share: reading `Authorization: Bearer`, the requirement
 * check, and the RFC 6750 answer (status, `WWW-Authenticate`, JSON body) for a VerifierError.
 */
import { requireRoles, requireScopes } from '../claims.ts';
import { VerifierError } from '../errors.ts';
import type { AccessTokenClaims } from '../types.ts';

/** Options of the Koa and Express middleware. */
export interface AuthOptions {
  /** scopes the token must all carry (403 otherwise) */
  scopes?: readonly string[];
  /** roles the token must all carry (403 otherwise) */
  roles?: readonly string[];
  /** `realm` of the `WWW-Authenticate` challenge */
  realm?: string;
}

/** the token of an `Authorization: Bearer <token>` header; throws ERR_NO_TOKEN / ERR_MALFORMED */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization) throw new VerifierError('ERR_NO_TOKEN', 'a bearer token is required');
  const space = authorization.indexOf(' ');
  if (space < 0 || authorization.slice(0, space).toLowerCase() !== 'bearer') {
    throw new VerifierError('ERR_NO_TOKEN', 'a bearer token is required');
  }
  const token = authorization.slice(space + 1).trim();
  if (token === '' || token.includes(' ')) throw new VerifierError('ERR_MALFORMED', 'the bearer token is malformed');
  return token;
}

/** throws a 403 VerifierError unless the claims satisfy the options */
export function enforce(claims: AccessTokenClaims, options: AuthOptions): void {
  if (options.scopes?.length) requireScopes(claims, ...options.scopes);
  if (options.roles?.length) requireRoles(claims, ...options.roles);
}

/** RFC 6750 §3 quoted-string content: no `"` or `\`, printable ASCII only */
const quote = (s: string) => s.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; code: string };
}

/** the HTTP answer for a VerifierError */
export function answerFor(err: VerifierError, realm?: string): Answer {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (err.status === 503) {
    headers['retry-after'] = '5';
    return { status: 503, headers, body: { error: 'temporarily_unavailable', error_description: err.message, code: err.code } };
  }
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm="${quote(realm)}"`);
  if (err.bearerError) {
    params.push(`error="${err.bearerError}"`, `error_description="${quote(err.message)}"`);
    if (err.code === 'ERR_INSUFFICIENT_SCOPE' && err.required) params.push(`scope="${quote(err.required.join(' '))}"`);
  }
  headers['www-authenticate'] = params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
  return {
    status: err.status,
    headers,
    body: { error: err.bearerError ?? 'invalid_request', error_description: err.message, code: err.code },
  };
}
