/** Storage of oidc-provider models (see oidc/adapters/sql.ts). Ids arrive already digested. */
import type { Db } from './db.ts';
import type { InputJsonObject, JsonObject } from '../generated/prisma/internal/prismaNamespace.ts';

export interface ArtifactRow {
  payload: JsonObject;
  consumedAt: Date | null;
  expiresAt: Date | null;
}
const select = { payload: true, consumedAt: true, expiresAt: true } as const;

export interface ArtifactWrite {
  payload: InputJsonObject;
  expiresAt: Date | null;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
}

const live = (now: Date) => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

export function createArtifactRepository(db: Db, tenantId: string) {
  return {
    async upsert(model: string, id: string, data: ArtifactWrite): Promise<void> {
      await db.oidcArtifact.upsert({
        where: { tenantId_model_id: { tenantId, model, id } },
        create: { tenantId, model, id, ...data },
        update: data,
      });
    },
    find: async (model: string, id: string): Promise<ArtifactRow | null> =>
      (await db.oidcArtifact.findFirst({ where: { tenantId, model, id, ...live(new Date()) }, select })) as ArtifactRow | null,
    findByUid: async (model: string, uid: string): Promise<ArtifactRow | null> =>
      (await db.oidcArtifact.findFirst({ where: { tenantId, model, uid, ...live(new Date()) }, select })) as ArtifactRow | null,
    findByUserCode: async (model: string, userCode: string): Promise<ArtifactRow | null> =>
      (await db.oidcArtifact.findFirst({ where: { tenantId, model, userCode, ...live(new Date()) }, select })) as ArtifactRow | null,
    /** atomic compare-and-set: true only for the one caller that consumed it */
    async consume(model: string, id: string): Promise<boolean> {
      const { count } = await db.oidcArtifact.updateMany({
        where: { tenantId, model, id, consumedAt: null },
        data: { consumedAt: new Date() },
      });
      return count === 1;
    },
    /**
     * refresh-token rotation: consume `oldId` only if nobody did yet, and store the successor;
     * false (and nothing stored) when the old one was already consumed
     */
    async rotate(model: string, oldId: string, id: string, data: ArtifactWrite): Promise<boolean> {
      // one statement, so atomic without an interactive transaction: the successor is inserted
      // only by the statement whose UPDATE consumed the old token. The consumption time is the
      // application's clock, which the reuse interval is measured with (see adapters/sql.ts)
      const inserted = await db.$executeRaw`
        WITH consumed AS (
          UPDATE oidc_artifacts SET consumed_at = ${new Date()}::timestamptz
          WHERE tenant_id = ${tenantId}::uuid AND model = ${model} AND id = ${oldId} AND consumed_at IS NULL
          RETURNING 1
        )
        INSERT INTO oidc_artifacts (tenant_id, model, id, payload, grant_id, uid, user_code, expires_at)
        SELECT ${tenantId}::uuid, ${model}, ${id}, ${JSON.stringify(data.payload)}::jsonb, ${data.grantId}, ${data.uid},
               ${data.userCode}, ${data.expiresAt}::timestamptz
        FROM consumed`;
      return inserted === 1;
    },
    async destroy(model: string, id: string): Promise<void> {
      await db.oidcArtifact.deleteMany({ where: { tenantId, model, id } });
    },
    /**
     * forgets everything an account holds: its grants, refresh tokens, codes, opaque access tokens
     * and browser sessions (password change, disable, delete)
     */
    async revokeByAccount(accountId: string): Promise<void> {
      await db.oidcArtifact.deleteMany({ where: { tenantId, payload: { path: ['accountId'], equals: accountId } } });
    },
    /** forgets everything issued to a client (disabled or deleted) */
    async revokeByClient(clientId: string): Promise<void> {
      await db.oidcArtifact.deleteMany({ where: { tenantId, payload: { path: ['clientId'], equals: clientId } } });
    },
    /** deletes every artifact of the grant and remembers the grant as revoked until `until` */
    async revokeByGrantId(grantId: string, until: Date): Promise<void> {
      await db.oidcArtifact.deleteMany({ where: { tenantId, grantId } });
      // INSERT … ON CONFLICT DO NOTHING: several revocations of one grant may run at once
      await db.revokedGrant.createMany({ data: [{ tenantId, grantId, expiresAt: until }], skipDuplicates: true });
    },
  };
}
export type ArtifactRepository = ReturnType<typeof createArtifactRepository>;

/** process-wide sweeper: removes expired artifacts and revocations of every tenant */
export async function sweepExpired(db: Db, now = new Date()): Promise<number> {
  const [a, t, g, s] = await Promise.all([
    db.oidcArtifact.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.revokedGrant.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.revokedSubject.deleteMany({ where: { expiresAt: { lt: now } } }),
  ]);
  return a.count + t.count + g.count + s.count;
}
