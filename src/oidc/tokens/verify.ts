/**
 * Verifies an access token of one tenant: signature with that tenant's published keys only (never
 * keys a token names: jwk/jku/x5u headers are ignored), its algorithm only (no `none`, no HMAC),
 * typ at+jwt, issuer, expiry (5 s tolerance) and, when given, the audience.
 */
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { TenantModel } from '../model.ts';

export type AccessTokenVerifier = (token: string, audience?: string) => Promise<JWTPayload>;

export function createAccessTokenVerifier(model: TenantModel): AccessTokenVerifier {
  const jwks = createLocalJWKSet({ keys: model.publicKeys });
  return async (token, audience) => {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: model.issuer,
      ...(audience !== undefined ? { audience } : {}),
      typ: 'at+jwt',
      algorithms: [model.signingAlg],
      clockTolerance: 5,
    });
    return payload;
  };
}
