import { AppError, isUniqueViolation } from '../errors.ts';
import type { RoleRow } from '../repositories/roles.ts';
import { PLATFORM_ADMIN_ROLE, SYSTEM_ACTOR, type Actor, type ServiceDeps, type TenantRepos } from './deps.ts';

export interface CreateRoleInput {
  name: string;
  description?: string;
  permissions: { resource: string; scope: string }[];
}

/** role names → role ids, refusing unknown names (and platform-admin unless allowed) */
export async function resolveRoleIds(r: TenantRepos, names: string[]): Promise<string[]> {
  const unique = [...new Set(names)];
  const rows = await r.roles.findByNames(unique);
  const missing = unique.filter((n) => !rows.some((row) => row.name === n));
  if (missing.length) throw new AppError('invalid_request', `unknown role(s): ${missing.join(', ')}`);
  return rows.map((row) => row.id);
}

export function createRoleService(deps: ServiceDeps, tenantId: string) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async create(input: CreateRoleInput, actor: Actor = SYSTEM_ACTOR): Promise<RoleRow> {
      if (input.name === PLATFORM_ADMIN_ROLE) throw new AppError('conflict', `role "${PLATFORM_ADMIN_ROLE}" is reserved`);
      const resources = await r.resources.listAll();
      const permissions = input.permissions.map((p) => {
        const res = resources.find((x) => x.audience === p.resource);
        if (!res) throw new AppError('invalid_request', `unknown resource "${p.resource}"`);
        if (!res.scopes.includes(p.scope)) {
          throw new AppError('invalid_request', `resource "${p.resource}" has no scope "${p.scope}"`);
        }
        return { resourceId: res.id, scope: p.scope };
      });
      const unique = [...new Map(permissions.map((p) => [`${p.resourceId} ${p.scope}`, p])).values()];
      try {
        const row = await deps.repos.transaction(async (tx) => {
          const t = tx.forTenant(tenantId);
          const created = await t.roles.create({ name: input.name, description: input.description ?? null, permissions: unique });
          await t.audit.record({ type: 'role.created', actor: actor.actor, requestId: actor.requestId ?? null, target: created.name });
          return created;
        });
        deps.onTenantChanged(tenantId);
        return row;
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `role "${input.name}" already exists`);
        throw err;
      }
    },
    list: () => r.roles.listAll(),
  };
}
export type RoleService = ReturnType<typeof createRoleService>;
