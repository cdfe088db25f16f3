import type { Db } from './db.ts';
import type { InputJsonObject } from '../generated/prisma/internal/prismaNamespace.ts';

export interface AuditInput {
  type: string;
  actor: string;
  target?: string | null;
  requestId?: string | null;
  /** never secrets, passwords or tokens */
  data?: InputJsonObject;
}

export function createAuditRepository(db: Db, tenantId: string) {
  return {
    record: async (e: AuditInput): Promise<void> => {
      await db.auditEvent.create({
        data: {
          tenantId,
          type: e.type,
          actor: e.actor,
          target: e.target ?? null,
          requestId: e.requestId ?? null,
          data: e.data ?? {},
        },
      });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
