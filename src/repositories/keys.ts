import type { Db } from './db.ts';
import type { KeyState, SigningAlg } from '../generated/prisma/enums.ts';
import type { JsonObject } from '../generated/prisma/internal/prismaNamespace.ts';

export interface SigningKeyRow {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  publicJwk: JsonObject;
  privateJwkEncrypted: string;
  createdAt: Date;
  activatedAt: Date | null;
  publishedUntil: Date | null;
}
const select = {
  kid: true,
  alg: true,
  state: true,
  publicJwk: true,
  privateJwkEncrypted: true,
  createdAt: true,
  activatedAt: true,
  publishedUntil: true,
} as const;

export function createSigningKeyRepository(db: Db, tenantId: string) {
  return {
    create: (data: Omit<SigningKeyRow, 'createdAt' | 'publishedUntil'>) => db.signingKey.create({ data: { ...data, tenantId }, select: { kid: true } }),
    findByState: async (state: KeyState): Promise<SigningKeyRow[]> =>
      (await db.signingKey.findMany({ where: { tenantId, state }, select, orderBy: { createdAt: 'desc' } })) as SigningKeyRow[],
    async setState(kid: string, state: KeyState, at: { activatedAt?: Date; retiredAt?: Date; publishedUntil?: Date }): Promise<void> {
      await db.signingKey.updateMany({ where: { tenantId, kid }, data: { state, ...at } });
    },
    /** keys that belong in JWKS now: next, active, and retired ones whose tokens may still be alive */
    async listPublished(now = new Date()): Promise<SigningKeyRow[]> {
      const rows = await db.signingKey.findMany({
        where: { tenantId, OR: [{ state: { in: ['next', 'active'] } }, { publishedUntil: { gt: now } }] },
        select,
        orderBy: { createdAt: 'desc' },
      });
      return rows as SigningKeyRow[];
    },
  };
}
export type SigningKeyRepository = ReturnType<typeof createSigningKeyRepository>;
