/**
 * Access tokens from another time: signed with a tenant's own active signing key (opened with the
 * server's key encryption key, as the server itself does), with whatever `iat` / `exp` a test
 * needs. Such a token differs from one the server issued only in the claims the test chose, so a
 * refusal can only be about those claims.
 */
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { openPrivateJwk } from '../../src/security/signing-keys.ts';
import { resolveKeyEncryptionKey } from '../../src/security/kek.ts';
import { createSecretBox } from '../../src/security/crypto.ts';
import type { TestServer } from './tessera.ts';

export async function signAsTenant(server: TestServer, slug: string, payload: JWTPayload): Promise<string> {
  const prisma = server.tessera.db.prisma;
  const tenant = await prisma.tenant.findUniqueOrThrow({ where: { slug } });
  const row = await prisma.signingKey.findFirstOrThrow({ where: { tenantId: tenant.id, state: 'active' } });
  const box = createSecretBox(await resolveKeyEncryptionKey(server.tessera.config));
  const jwk = openPrivateJwk(row, tenant.id, box);
  const key = await importJWK(jwk, row.alg);
  return new SignJWT(payload).setProtectedHeader({ alg: row.alg, typ: 'at+jwt', kid: row.kid }).sign(key);
}
