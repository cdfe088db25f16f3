/**
 * GET /admin/tenants/{t}/audit-events: a tenant's audit trail (sign-ins, failures, lockouts,
 * refresh-token reuse, every admin change), newest first, filtered by type, actor, target and a
 * time range, paginated like every other list (`{items, nextCursor}`).
 */
import { z } from 'zod';
import { route, tenantOf, type AdminRoute } from './route.ts';
import { pageOf } from './schemas.ts';

const dateTime = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z' });

export const AuditQuerySchema = z
  .object({
    type: z.string().max(500).optional().meta({ description: 'event type, or several comma-separated (e.g. `signin.failure,signin.lockout`)' }),
    actor: z.string().max(300).optional().meta({
      description:
        'e.g. `user:<id>`, `client:<client_id>`, `username:<name>` (a typed name that is no user: stored as a keyed pseudonym, found by the name), `system`',
    }),
    target: z.string().max(300).optional(),
    from: dateTime.optional().meta({ description: 'events at or after this instant' }),
    to: dateTime.optional().meta({ description: 'events before this instant' }),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const AuditEvent = z.object({
  id: z.string(),
  type: z.string(),
  actor: z.string(),
  target: z.string().nullable(),
  requestId: z.string().nullable(),
  address: z.string().nullable().meta({ description: 'the client address, when the event came from a request' }),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export function auditRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{t}/audit-events',
      summary: 'List audit events, newest first (filter by type, actor, target, from/to)',
      operation: 'audit.list',
      query: AuditQuerySchema,
      status: 200,
      response: pageOf(AuditEvent),
      handler: async (c, { query }) => tenantOf(c).services.audit.list(query),
    }),
  ];
}
