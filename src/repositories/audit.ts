/**
 * Audit events: written in the same transaction as the change they record (services), read by
 * the admin API newest first, and pruned past the retention period. Never secrets, passwords or
 * tokens in `data`. After a successful write the event type is reported to the request scope
 * (metrics count sign-in failures and lockouts from it) without this module knowing about metrics.
 */
import type { PrismaClient } from '../db/database.ts';
import type { InputJsonObject } from '../generated/prisma/internal/prismaNamespace.ts';
import { currentRequest, reportAudit } from '../http/request-scope.ts';
import type { Db, Page } from './db.ts';

export interface AuditInput {
  type: string;
  actor: string;
  target?: string | null;
  /** default: the id of the request being served (never the raw X-Request-Id header) */
  requestId?: string | null;
  /** default: the client address of the request being served */
  address?: string | null;
  /** never secrets, passwords or tokens */
  data?: InputJsonObject;
}

export interface AuditFilter {
  /** exact event types (any of them) */
  types?: string[] | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  /** inclusive */
  from?: Date | undefined;
  /** exclusive */
  to?: Date | undefined;
}

export interface AuditRow {
  id: string;
  type: string;
  actor: string;
  target: string | null;
  requestId: string | null;
  address: string | null;
  data: unknown;
  createdAt: Date;
}

export function createAuditRepository(db: Db, tenantId: string) {
  return {
    // one plain INSERT: it runs on every sign-in, and Prisma's `create` (which reads the row back)
    // costs about twice the CPU of this statement (measured: ~340 µs vs ~180 µs per event)
    record: async (e: AuditInput): Promise<void> => {
      const request = currentRequest();
      await db.$executeRaw`
        INSERT INTO audit_events (tenant_id, type, actor, target, request_id, address, data)
        VALUES (${tenantId}::uuid, ${e.type}, ${e.actor}, ${e.target ?? null}, ${e.requestId ?? request.requestId},
                ${e.address ?? request.address}, ${JSON.stringify(e.data ?? {})}::jsonb)`;
      reportAudit(e.type);
    },
    /** newest first; `after` is the id of the last event of the previous page (a decimal string) */
    async page(filter: AuditFilter, p: Page): Promise<AuditRow[]> {
      const rows = await db.auditEvent.findMany({
        where: {
          tenantId,
          ...(filter.types?.length ? { type: { in: filter.types } } : {}),
          ...(filter.actor ? { actor: filter.actor } : {}),
          ...(filter.target ? { target: filter.target } : {}),
          ...(filter.from || filter.to ? { createdAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
          ...(p.after ? { id: { lt: BigInt(p.after) } } : {}),
        },
        orderBy: { id: 'desc' },
        take: p.limit,
        select: { id: true, type: true, actor: true, target: true, requestId: true, address: true, data: true, createdAt: true },
      });
      return rows.map((r) => ({ ...r, id: r.id.toString() }));
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;

/**
 * Deletes every tenant's audit events older than `before`, tenant by tenant (the index leads with
 * the tenant) and in batches (short transactions, no long lock on a large table). Returns how many.
 */
export async function pruneAuditEvents(prisma: PrismaClient, before: Date, batchSize = 5000): Promise<number> {
  let deleted = 0;
  const tenants = await prisma.tenant.findMany({ select: { id: true } });
  for (const { id: tenantId } of tenants) {
    for (;;) {
      const batch = await prisma.auditEvent.findMany({
        where: { tenantId, createdAt: { lt: before } },
        select: { id: true },
        orderBy: { createdAt: 'asc' },
        take: batchSize,
      });
      if (!batch.length) break;
      const { count } = await prisma.auditEvent.deleteMany({ where: { id: { in: batch.map((b) => b.id) } } });
      deleted += count;
      if (batch.length < batchSize) break;
    }
  }
  return deleted;
}
