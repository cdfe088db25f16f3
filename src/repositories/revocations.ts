/** Durable revocations: JWT access tokens by jti, and whole grants, each kept until it cannot matter. */
import type { Db } from './db.ts';

export function createRevocationRepository(db: Db, tenantId: string) {
  const now = () => new Date();
  return {
    async revokeJti(jti: string, expiresAt: Date): Promise<void> {
      await db.revokedToken.createMany({ data: [{ tenantId, jti, expiresAt }], skipDuplicates: true });
    },
    async isRevoked(jti: string | undefined, grantId: string | undefined): Promise<boolean> {
      const [t, g] = await Promise.all([
        jti ? db.revokedToken.count({ where: { tenantId, jti, expiresAt: { gt: now() } } }) : 0,
        grantId ? db.revokedGrant.count({ where: { tenantId, grantId, expiresAt: { gt: now() } } }) : 0,
      ]);
      return t + g > 0;
    },
    /** every live revocation, to rebuild the store's mirror */
    async listLive(): Promise<{ jtis: { jti: string; expiresAt: Date }[]; grants: { grantId: string; expiresAt: Date }[] }> {
      const [jtis, grants] = await Promise.all([
        db.revokedToken.findMany({ where: { tenantId, expiresAt: { gt: now() } }, select: { jti: true, expiresAt: true } }),
        db.revokedGrant.findMany({ where: { tenantId, expiresAt: { gt: now() } }, select: { grantId: true, expiresAt: true } }),
      ]);
      return { jtis, grants };
    },
  };
}
export type RevocationRepository = ReturnType<typeof createRevocationRepository>;
