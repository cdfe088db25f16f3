import { PLATFORM_ADMIN_ROLE, SYSTEM_ACTOR, type Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { RoleRow } from '../repositories/roles.ts';
import type { TenantRepos, TenantScope } from './deps.ts';
import { paginate, type PageInput } from './page.ts';
import { authorize } from './policy.ts';

export interface PermissionInput {
  resource: string;
  scope: string;
}
export interface CreateRoleInput {
  name: string;
  description?: string;
  permissions: PermissionInput[];
}
export type UpdateRoleInput = Partial<Pick<CreateRoleInput, 'description' | 'permissions'>>;

export interface RoleView {
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: PermissionInput[];
}

const ROLE_NAME = /^[A-Za-z0-9][\w.:-]{0,63}$/;

/** role names → role ids, refusing unknown names */
export async function resolveRoleIds(r: TenantRepos, names: string[]): Promise<string[]> {
  const unique = [...new Set(names)];
  const rows = await r.roles.findByNames(unique);
  const missing = unique.filter((n) => !rows.some((row) => row.name === n));
  if (missing.length) throw new AppError('invalid_request', `unknown role(s): ${missing.join(', ')}`);
  return rows.map((row) => row.id);
}

export function createRoleService({ tenant, repos: r, change }: TenantScope) {
  const toView = async (role: RoleRow): Promise<RoleView> => {
    const resources = new Map((await r.resources.listAll()).map((x) => [x.id, x.audience]));
    return {
      name: role.name,
      description: role.description,
      builtIn: role.builtIn,
      permissions: role.permissions.map((p) => ({ resource: resources.get(p.resourceId) ?? p.resourceId, scope: p.scope })),
    };
  };
  const resolvePermissions = async (permissions: PermissionInput[]) => {
    const resources = await r.resources.listAll();
    const resolved = permissions.map((p) => {
      const res = resources.find((x) => x.audience === p.resource);
      if (!res) throw new AppError('invalid_request', `unknown resource "${p.resource}"`);
      if (!res.scopes.includes(p.scope)) throw new AppError('invalid_request', `resource "${p.resource}" has no scope "${p.scope}"`);
      return { resourceId: res.id, scope: p.scope };
    });
    return [...new Map(resolved.map((p) => [`${p.resourceId} ${p.scope}`, p])).values()];
  };
  const find = async (name: string) => {
    const row = await r.roles.findByName(name);
    if (!row) throw new AppError('not_found', `role "${name}" not found`);
    return row;
  };
  /** the role locked for the change, and the policy's decision on it (a role a platform admin holds is theirs too) */
  const locked = async (t: TenantRepos, name: string, actor: Actor, operation: 'role.update' | 'role.delete') => {
    const role = await t.roles.lockForUpdate(name, PLATFORM_ADMIN_ROLE);
    if (!role) throw new AppError('not_found', `role "${name}" not found`);
    authorize(actor, { operation, tenant, target: { builtIn: role.builtIn, heldByProtected: role.heldByProtected } });
    return role;
  };

  return {
    async create(input: CreateRoleInput, actor: Actor = SYSTEM_ACTOR): Promise<RoleView> {
      authorize(actor, { operation: 'role.create', tenant });
      if (!ROLE_NAME.test(input.name)) throw new AppError('invalid_request', 'role names are 1-64 letters, digits, and . _ : -');
      if (input.name === PLATFORM_ADMIN_ROLE) throw new AppError('conflict', `role "${PLATFORM_ADMIN_ROLE}" is reserved`);
      const permissions = await resolvePermissions(input.permissions);
      const audit = { type: 'role.created', target: input.name, invalidates: true, conflict: `role "${input.name}" already exists` };
      const row = await change(actor, audit, (t) => t.roles.create({ name: input.name, description: input.description ?? null, permissions }));
      return toView(row);
    },
    get: async (name: string): Promise<RoleView> => toView(await find(name)),
    async list(page: PageInput = {}) {
      const resources = new Map((await r.resources.listAll()).map((x) => [x.id, x.audience]));
      return paginate(
        page,
        (o) => r.roles.page(o),
        (role) => ({
          name: role.name,
          description: role.description,
          builtIn: role.builtIn,
          permissions: role.permissions.map((p) => ({ resource: resources.get(p.resourceId) ?? p.resourceId, scope: p.scope })),
        }),
      );
    },
    async update(name: string, input: UpdateRoleInput, actor: Actor = SYSTEM_ACTOR): Promise<RoleView> {
      const permissions = input.permissions ? await resolvePermissions(input.permissions) : undefined;
      await change(actor, { type: 'role.updated', target: name, data: { changed: Object.keys(input) }, invalidates: true }, async (t) => {
        const role = await locked(t, name, actor, 'role.update');
        if (role.builtIn && input.permissions) throw new AppError('conflict', 'the permissions of a built-in role cannot change');
        await t.roles.update(role.id, {
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(permissions ? { permissions } : {}),
        });
      });
      return toView(await find(name));
    },
    async delete(name: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      await change(actor, { type: 'role.deleted', target: name, invalidates: true }, async (t) => {
        const role = await locked(t, name, actor, 'role.delete');
        if (role.builtIn) throw new AppError('conflict', 'a built-in role cannot be deleted');
        await t.roles.delete(role.id);
      });
    },
  };
}
export type RoleService = ReturnType<typeof createRoleService>;
