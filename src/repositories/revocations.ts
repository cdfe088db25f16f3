/**
 * Durable revocations, each kept until it cannot matter: JWT access tokens by jti, whole grants,
 * and subjects (every token of a user or client issued at or before a second).
 */
import type { Db } from './db.ts';

/** what a token is checked against; absent members are not checked */
export interface RevocationQuery {
  jti?: string | undefined;
  grantId?: string | undefined;
  /** subject keys (`u:<user id>`, `c:<client_id>`) and the token's `iat` */
  subjects?: readonly string[];
  iat?: number | undefined;
}

export interface LiveRevocations {
  jtis: { jti: string; expiresAt: Date }[];
  grants: { grantId: string; expiresAt: Date }[];
  subjects: { subject: string; notBefore: number; expiresAt: Date }[];
}

export function createRevocationRepository(db: Db, tenantId: string) {
  const now = () => new Date();
  return {
    async revokeJti(jti: string, expiresAt: Date): Promise<void> {
      await db.revokedToken.createMany({ data: [{ tenantId, jti, expiresAt }], skipDuplicates: true });
    },
    /** tokens of `subject` issued at or before `notBefore` (seconds); a later revocation only moves it forward */
    async revokeSubject(subject: string, notBefore: number, expiresAt: Date): Promise<void> {
      await db.$executeRaw`
        INSERT INTO revoked_subjects (tenant_id, subject, not_before, expires_at)
        VALUES (${tenantId}::uuid, ${subject}, ${notBefore}, ${expiresAt}::timestamptz)
        ON CONFLICT (tenant_id, subject) DO UPDATE
        SET not_before = GREATEST(revoked_subjects.not_before, EXCLUDED.not_before),
            expires_at = GREATEST(revoked_subjects.expires_at, EXCLUDED.expires_at),
            revoked_at = now()`;
    },
    async isRevoked(q: RevocationQuery): Promise<boolean> {
      const live = { gt: now() };
      const [t, g, s] = await Promise.all([
        q.jti ? db.revokedToken.count({ where: { tenantId, jti: q.jti, expiresAt: live } }) : 0,
        q.grantId ? db.revokedGrant.count({ where: { tenantId, grantId: q.grantId, expiresAt: live } }) : 0,
        q.subjects?.length
          ? db.revokedSubject.count({
              where: { tenantId, subject: { in: [...q.subjects] }, expiresAt: live, ...(q.iat !== undefined ? { notBefore: { gte: q.iat } } : {}) },
            })
          : 0,
      ]);
      return t + g + s > 0;
    },
    /** every live revocation, to rebuild the store's mirror */
    async listLive(): Promise<LiveRevocations> {
      const live = { tenantId, expiresAt: { gt: now() } };
      const [jtis, grants, subjects] = await Promise.all([
        db.revokedToken.findMany({ where: live, select: { jti: true, expiresAt: true } }),
        db.revokedGrant.findMany({ where: live, select: { grantId: true, expiresAt: true } }),
        db.revokedSubject.findMany({ where: live, select: { subject: true, notBefore: true, expiresAt: true } }),
      ]);
      return { jtis, grants, subjects };
    },
  };
}
export type RevocationRepository = ReturnType<typeof createRevocationRepository>;
