import { AppError, isUniqueViolation } from '../errors.ts';
import { SYSTEM_ACTOR, assertMayAssign, type Actor, type ServiceDeps } from './deps.ts';
import { paginate, type PageInput } from './page.ts';
import { resolveRoleIds } from './roles.ts';

export interface CreateUserInput {
  username: string;
  password: string;
  email?: string;
  roles: string[];
}

export interface UserView {
  id: string;
  username: string;
  email: string | null;
  roles: string[];
  disabled: boolean;
}

export interface UpdateUserInput {
  roles?: string[];
  disabled?: boolean;
  password?: string;
}

const view = (u: UserView): UserView => ({ id: u.id, username: u.username, email: u.email, roles: u.roles, disabled: u.disabled });

export function createUserService(deps: ServiceDeps, tenantId: string) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async create(input: CreateUserInput, actor: Actor = SYSTEM_ACTOR): Promise<UserView> {
      assertMayAssign(input.roles, actor);
      const roleIds = await resolveRoleIds(r, input.roles);
      const passwordHash = await deps.passwords.hash(input.password);
      try {
        return await deps.repos.transaction(async (tx) => {
          const t = tx.forTenant(tenantId);
          const u = await t.users.create({ username: input.username, email: input.email ?? null, passwordHash, roleIds });
          await t.audit.record({ type: 'user.created', actor: actor.actor, requestId: actor.requestId ?? null, target: u.id });
          return view(u);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `username "${input.username}" is already taken`);
        throw err;
      }
    },
    list: (page: PageInput = {}) => paginate(page, (o) => r.users.page(o), view),
    async delete(id: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      await deps.repos.transaction(async (tx) => {
        const t = tx.forTenant(tenantId);
        if (!(await t.users.delete(id))) throw new AppError('not_found', 'user not found');
        // the user's grants (refresh tokens) go with it
        await t.artifacts.revokeByAccount(id);
        await t.audit.record({ type: 'user.deleted', actor: actor.actor, requestId: actor.requestId ?? null, target: id });
      });
    },
    async get(id: string): Promise<UserView> {
      const u = await r.users.findById(id);
      if (!u) throw new AppError('not_found', 'user not found');
      return view(u);
    },
    /** roles, disabled state and password; takes effect at the next sign-in or refresh */
    async update(id: string, input: UpdateUserInput, actor: Actor = SYSTEM_ACTOR): Promise<UserView> {
      assertMayAssign(input.roles, actor);
      const roleIds = input.roles ? await resolveRoleIds(r, input.roles) : undefined;
      const passwordHash = input.password !== undefined ? await deps.passwords.hash(input.password) : undefined;
      await deps.repos.transaction(async (tx) => {
        const t = tx.forTenant(tenantId);
        const found = await t.users.update(id, {
          ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
          ...(passwordHash ? { passwordHash } : {}),
        });
        if (!found) throw new AppError('not_found', 'user not found');
        if (roleIds) await t.users.setRoles(id, roleIds);
        const changed = Object.keys(input).filter((k) => k !== 'password' || passwordHash);
        await t.audit.record({ type: 'user.updated', actor: actor.actor, requestId: actor.requestId ?? null, target: id, data: { changed } });
      });
      return this.get(id);
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
