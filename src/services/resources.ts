import { AppError, isUniqueViolation } from '../errors.ts';
import type { ResourceRow } from '../repositories/resources.ts';
import { SYSTEM_ACTOR, type Actor, type ServiceDeps } from './deps.ts';

export interface CreateResourceInput {
  audience: string;
  name: string;
  scopes: string[];
  accessTokenTtl?: number;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

export function createResourceService(deps: ServiceDeps, tenantId: string) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async create(input: CreateResourceInput, actor: Actor = SYSTEM_ACTOR): Promise<ResourceRow> {
      const url = URL.parse(input.audience);
      if (!url || url.hash) throw new AppError('invalid_request', 'audience must be an absolute URI without a fragment');
      const bad = input.scopes.find((s) => !SCOPE_TOKEN.test(s));
      if (bad !== undefined) throw new AppError('invalid_request', `invalid scope "${bad}"`);
      const ttl = input.accessTokenTtl ?? 3600;
      if (!Number.isInteger(ttl) || ttl < 30 || ttl > 86400) {
        throw new AppError('invalid_request', 'accessTokenTtl must be between 30 and 86400 seconds');
      }
      try {
        const row = await deps.repos.transaction(async (tx) => {
          const t = tx.forTenant(tenantId);
          const created = await t.resources.create({
            audience: input.audience,
            name: input.name,
            scopes: [...new Set(input.scopes)],
            accessTokenTtl: ttl,
            builtIn: false,
          });
          await t.audit.record({ type: 'resource.created', actor: actor.actor, requestId: actor.requestId ?? null, target: created.audience });
          return created;
        });
        deps.onTenantChanged(tenantId);
        return row;
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `a resource with audience "${input.audience}" already exists`);
        throw err;
      }
    },
    list: () => r.resources.listAll(),
  };
}
export type ResourceService = ReturnType<typeof createResourceService>;
