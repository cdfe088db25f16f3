import { AppError, isUniqueViolation } from '../errors.ts';
import { SYSTEM_ACTOR, type Actor, type ServiceDeps } from './deps.ts';
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

export function createUserService(deps: ServiceDeps, tenantId: string) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async create(input: CreateUserInput, actor: Actor = SYSTEM_ACTOR): Promise<UserView> {
      const roleIds = await resolveRoleIds(r, input.roles);
      const passwordHash = await deps.passwords.hash(input.password);
      try {
        return await deps.repos.transaction(async (tx) => {
          const t = tx.forTenant(tenantId);
          const u = await t.users.create({ username: input.username, email: input.email ?? null, passwordHash, roleIds });
          await t.audit.record({ type: 'user.created', actor: actor.actor, requestId: actor.requestId ?? null, target: u.id });
          return { id: u.id, username: u.username, email: u.email, roles: u.roles, disabled: u.disabled };
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `username "${input.username}" is already taken`);
        throw err;
      }
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
