/**
 * Checks on the protected header that jose leaves to the application: RFC 9068 `typ`, no `crit`,
 * no embedded key or key reference, a `kid`. Runs before any key lookup or network request.
 */
import type { JWTHeaderParameters } from 'jose';
import { VerifierError } from './errors.ts';

function isAtJwt(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase(); // media types are case-insensitive (RFC 7515 §4.1.9)
  return t === 'at+jwt' || t === 'application/at+jwt';
}

/** throws the VerifierError for the first header rule broken; returns the kid */
export function checkHeader(header: JWTHeaderParameters): string {
  if (header.jwk !== undefined || header.jku !== undefined || header.x5u !== undefined || header.x5c !== undefined) {
    throw new VerifierError('ERR_EMBEDDED_KEY', 'tokens carrying their own key or key URL are refused');
  }
  if (header.crit !== undefined) throw new VerifierError('ERR_CRIT', 'tokens with "crit" header parameters are refused');
  if (header.typ !== 'at+jwt' && !isAtJwt(header.typ)) throw new VerifierError('ERR_TYP', 'not an access token ("typ" must be "at+jwt")');
  const { kid } = header;
  if (typeof kid !== 'string' || kid === '') throw new VerifierError('ERR_KID_UNKNOWN', 'the token has no "kid"');
  return kid;
}
