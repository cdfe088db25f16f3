/**
 * Signing keys: generated per tenant, private JWK sealed with AES-256-GCM (the row's tenant and
 * kid are the additional data, so a sealed key cannot be moved to another row), public JWK kept
 * in clear for JWKS.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { SigningKeyRow } from '../repositories/keys.ts';
import type { SecretBox } from '../security/crypto.ts';
import type { TenantRepos } from './deps.ts';

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

export async function createActiveKey(repos: TenantRepos, secretBox: SecretBox, alg: SigningAlg): Promise<string> {
  const key = await generateSigningKey(alg);
  await repos.keys.create({
    kid: key.kid,
    alg,
    state: 'active',
    publicJwk: JSON.parse(JSON.stringify(key.publicJwk)) as Record<string, string>,
    privateJwkEncrypted: secretBox.encrypt(JSON.stringify(key.privateJwk), keyAad(repos.tenantId, key.kid)),
    activatedAt: new Date(),
  });
  return key.kid;
}

export function openPrivateJwk(row: SigningKeyRow, tenantId: string, secretBox: SecretBox): JWK {
  return JSON.parse(secretBox.decrypt(row.privateJwkEncrypted, keyAad(tenantId, row.kid))) as JWK;
}
