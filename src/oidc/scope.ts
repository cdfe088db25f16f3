/**
 * CONTRACT §4 scope rule: omitted → every scope the subject's roles grant on the resource;
 * given → the intersection; nothing left → invalid_scope.
 */
import { errors } from 'oidc-provider';

export function decideScope(requested: string | undefined, granted: readonly string[], resourceScopes: readonly string[]): string[] {
  const asked = requested?.split(' ').filter(Boolean);
  const result = asked?.length ? granted.filter((s) => asked.includes(s)) : [...granted];
  if (!result.length && (asked?.length || resourceScopes.length)) {
    throw new errors.InvalidScope('requested scope is not granted to this subject for the requested resource', asked?.join(' ') ?? '');
  }
  return result;
}
