/**
 * Time travel for oidc-provider artifacts (src/oidc/adapters/sql.ts): instead of waiting days for
 * a refresh token to expire, a test moves one sign-in (its Grant and every artifact of that grant)
 * into the past. Every stored instant moves by the same amount (the `expires_at` and `consumed_at`
 * columns, and `iat`, `exp`, `iiat`, `nbf`, `authTime` in the payload), so what the server sees
 * afterwards is exactly what it would see had that much time passed since those artifacts were
 * written: nothing is "expired by hand", the server's own lifetime rules decide.
 */
import type { PrismaClient } from '../../src/db/database.ts';
import type { InputJsonObject, JsonObject } from '../../src/generated/prisma/internal/prismaNamespace.ts';
import { digest } from '../../src/security/crypto.ts';

const INSTANTS = ['iat', 'exp', 'iiat', 'nbf', 'authTime'] as const;

/** the stored refresh token (looked up by the digest of its value, as the adapter stores it) */
export async function storedRefreshToken(prisma: PrismaClient, tenantId: string, refreshToken: string) {
  const row = await prisma.oidcArtifact.findUnique({
    where: { tenantId_model_id: { tenantId, model: 'RefreshToken', id: digest(refreshToken) } },
  });
  if (!row) throw new Error('no such refresh token is stored');
  const payload = row.payload as JsonObject;
  return {
    grantId: String(payload.grantId),
    expiresAt: row.expiresAt,
    consumedAt: row.consumedAt,
    iiat: typeof payload.iiat === 'number' ? payload.iiat : undefined,
    exp: typeof payload.exp === 'number' ? payload.exp : undefined,
  };
}

/**
 * Moves every artifact of `grantId` (the Grant row and the tokens that point at it) `seconds` into
 * the past; resolves with the number of rows moved (at least the Grant and one token, or it throws).
 */
export async function ageGrant(prisma: PrismaClient, tenantId: string, grantId: string, seconds: number): Promise<number> {
  const rows = await prisma.oidcArtifact.findMany({
    where: { tenantId, OR: [{ grantId }, { model: 'Grant', id: digest(grantId) }] },
  });
  if (!rows.some((r) => r.model === 'Grant') || rows.length < 2) {
    throw new Error(`grant ${grantId}: expected the Grant and its tokens, found ${rows.map((r) => r.model).join(', ') || 'nothing'}`);
  }
  const back = (d: Date | null) => (d ? new Date(d.getTime() - seconds * 1000) : null);
  for (const row of rows) {
    const payload = { ...(row.payload as JsonObject) };
    for (const name of INSTANTS) {
      const v = payload[name];
      if (typeof v === 'number') payload[name] = v - seconds;
    }
    await prisma.oidcArtifact.update({
      where: { tenantId_model_id: { tenantId, model: row.model, id: row.id } },
      data: { payload: payload as InputJsonObject, expiresAt: back(row.expiresAt), consumedAt: back(row.consumedAt) },
    });
  }
  return rows.length;
}

/** `ageGrant` for the sign-in a refresh token belongs to */
export async function ageSignIn(prisma: PrismaClient, tenantId: string, refreshToken: string, seconds: number): Promise<number> {
  const { grantId } = await storedRefreshToken(prisma, tenantId, refreshToken);
  return ageGrant(prisma, tenantId, grantId, seconds);
}
