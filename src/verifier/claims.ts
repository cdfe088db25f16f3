/** Authorization checks on verified claims: scopes (space-separated `scope`) and roles (`roles` array). */
import { VerifierError } from './errors.ts';
import type { AccessTokenClaims } from './types.ts';

type Claims = Pick<AccessTokenClaims, 'scope' | 'roles'>;

/** the token's scopes as a list (empty when it has none) */
export function scopesOf(payload: Claims): string[] {
  return typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
}

/** the token's roles as a list (empty when it has none or `roles` is not an array of strings) */
export function rolesOf(payload: Claims): string[] {
  const { roles } = payload;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/**
 * Throws `ERR_INSUFFICIENT_SCOPE` (403, `error="insufficient_scope"`) unless the token carries
 * every one of `scopes`.
 */
export function requireScopes(payload: Claims, ...scopes: string[]): void {
  const granted = scopesOf(payload);
  if (scopes.some((s) => !granted.includes(s))) {
    throw new VerifierError('ERR_INSUFFICIENT_SCOPE', `the token lacks a required scope (${scopes.join(' ')})`, { required: scopes });
  }
}

/**
 * Throws `ERR_INSUFFICIENT_ROLE` (403, `error="insufficient_scope"`) unless the token carries
 * every one of `roles`.
 */
export function requireRoles(payload: Claims, ...roles: string[]): void {
  const granted = rolesOf(payload);
  if (roles.some((r) => !granted.includes(r))) {
    throw new VerifierError('ERR_INSUFFICIENT_ROLE', `the token lacks a required role (${roles.join(' ')})`, { required: roles });
  }
}
