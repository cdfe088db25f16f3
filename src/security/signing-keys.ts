/**
 * Signing keys at rest: generated per tenant, the private JWK sealed with AES-256-GCM under the
 * key-encryption key (the row's tenant and kid are the additional data, so a sealed key cannot be
 * moved to another row), the public JWK kept in clear for JWKS.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { SecretBox } from './crypto.ts';

export const keyAad = (tenantId: string, kid: string) => `signing-key:${tenantId}:${kid}`;

export async function generateSigningKey(alg: SigningAlg) {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg, use: 'sig' };
  return { kid, publicJwk: { ...publicJwk, ...meta }, privateJwk: { ...(await exportJWK(privateKey)), ...meta } };
}

export const sealPrivateJwk = (jwk: JWK, tenantId: string, kid: string, secretBox: SecretBox): string =>
  secretBox.encrypt(JSON.stringify(jwk), keyAad(tenantId, kid));

export function openPrivateJwk(row: { kid: string; privateJwkEncrypted: string }, tenantId: string, secretBox: SecretBox): JWK {
  return JSON.parse(secretBox.decrypt(row.privateJwkEncrypted, keyAad(tenantId, row.kid))) as JWK;
}
