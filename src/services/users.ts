/**
 * Staff accounts. Every change is authorised by the policy (services/policy.ts) inside the
 * transaction that makes it, with the user's row locked. A password change, disable or delete
 * ends everything the user holds: their refresh tokens, grants, codes and browser sessions are
 * deleted, and every access token issued to them up to that second is revoked (a per-subject
 * cut-off checked at introspection and by the admin API, like Keycloak's not-before).
 */
import { SYSTEM_ACTOR, type Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { UserRow } from '../repositories/users.ts';
import { REVOCATION_MEMORY_MS, userSubject } from './revocation-list.ts';
import { assertPasswordAllowed } from '../security/password-policy.ts';
import { usernameProblem } from '../security/usernames.ts';
import type { TenantRepos, TenantScope } from './deps.ts';
import { mfaView, selfActor, type MfaView } from './mfa.ts';
import { paginate, type PageInput } from './page.ts';
import { authorize } from './policy.ts';
import { resolveRoleIds } from './roles.ts';

export interface CreateUserInput {
  username: string;
  password: string;
  email?: string;
  roles: string[];
  /** the user must choose a new password at the first browser sign-in (the password grant refuses until then) */
  temporaryPassword?: boolean;
}

export interface UserView {
  id: string;
  username: string;
  email: string | null;
  roles: string[];
  disabled: boolean;
  temporaryPassword: boolean;
  mfa: MfaView;
}

export interface UpdateUserInput {
  roles?: string[];
  disabled?: boolean;
  password?: string;
  /** with `password`: it is temporary (default false: a password set by an admin is final) */
  temporaryPassword?: boolean;
}

const view = (u: UserRow): UserView => ({
  id: u.id,
  username: u.username,
  email: u.email,
  roles: u.roles,
  disabled: u.disabled,
  temporaryPassword: u.mustChangePassword,
  mfa: mfaView(u),
});

export function createUserService({ deps, tenant, repos: r, change }: TenantScope) {
  /** the user's tokens up to `at` are revoked and what it holds is deleted (in the caller's transaction) */
  async function endEverything(t: TenantRepos, userId: string, at: Date) {
    const notBefore = Math.floor(at.getTime() / 1000);
    const expiresAt = new Date(at.getTime() + REVOCATION_MEMORY_MS);
    await t.revocations.revokeSubject(userSubject(userId), notBefore, expiresAt);
    await t.artifacts.revokeByAccount(userId);
    return { kind: 'subject' as const, subject: userSubject(userId), notBefore, expiresAt };
  }

  return {
    async create(input: CreateUserInput, actor: Actor = SYSTEM_ACTOR): Promise<UserView> {
      authorize(actor, { operation: 'user.create', tenant, assigns: input.roles });
      const problem = usernameProblem(input.username);
      if (problem) throw new AppError('invalid_request', `the username ${problem}`, { errors: [{ path: 'username', message: problem }] });
      assertPasswordAllowed(input.password, { username: input.username });
      const roleIds = await resolveRoleIds(r, input.roles);
      const passwordHash = await deps.passwords.hash(input.password);
      const conflict = `username "${input.username}" is already taken`;
      return change(actor, { type: 'user.created', target: (u) => u.id, conflict }, async (t) =>
        view(
          await t.users.create({
            username: input.username,
            email: input.email ?? null,
            passwordHash,
            roleIds,
            mustChangePassword: input.temporaryPassword === true,
          }),
        ),
      );
    },
    /** `username`: only users whose username contains it, in any case */
    list: (page: PageInput = {}, filter: { username?: string | undefined } = {}) => paginate(page, (o) => r.users.page(o, filter), view),
    async delete(id: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      const revoked = await change(actor, { type: 'user.deleted', target: id }, async (t) => {
        const user = await t.users.lockForUpdate(id);
        if (!user) throw new AppError('not_found', 'user not found');
        authorize(actor, { operation: 'user.delete', tenant, target: { roles: user.roles } });
        const entry = await endEverything(t, id, new Date());
        await t.users.delete(id);
        return entry;
      });
      await deps.revocationMirror.record(tenant.id, [revoked]);
    },
    async get(id: string): Promise<UserView> {
      const u = await r.users.findById(id);
      if (!u) throw new AppError('not_found', 'user not found');
      return view(u);
    },
    /**
     * roles, disabled state and password. Role changes apply at the next sign-in, refresh or admin
     * call; a password change or disable ends the user's sessions and tokens at once.
     */
    async update(id: string, input: UpdateUserInput, actor: Actor = SYSTEM_ACTOR): Promise<UserView> {
      // a first decision before the expensive part (argon2), on an unlocked read; the binding one
      // is taken again under the row lock below
      const current = await r.users.findById(id);
      if (!current) throw new AppError('not_found', 'user not found');
      const request = { operation: 'user.update', tenant, assigns: input.roles } as const;
      authorize(actor, { ...request, target: { roles: current.roles } });
      if (input.password !== undefined) assertPasswordAllowed(input.password, { username: current.username });
      if (input.temporaryPassword !== undefined && input.password === undefined) {
        throw new AppError('invalid_request', 'temporaryPassword goes with a new password', {
          errors: [{ path: 'temporaryPassword', message: 'only together with password' }],
        });
      }
      const roleIds = input.roles ? await resolveRoleIds(r, input.roles) : undefined;
      const passwordHash = input.password !== undefined ? await deps.passwords.hash(input.password) : undefined;
      const data = (ended: unknown) => ({ changed: Object.keys(input), ...(ended ? { sessions_ended: true } : {}) });
      const revoked = await change(actor, { type: 'user.updated', target: id, data }, async (t) => {
        const user = await t.users.lockForUpdate(id);
        if (!user) throw new AppError('not_found', 'user not found');
        authorize(actor, { ...request, target: { roles: user.roles } });
        const now = new Date();
        await t.users.update(id, {
          ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
          ...(passwordHash ? { passwordHash, passwordChangedAt: now, mustChangePassword: input.temporaryPassword === true } : {}),
        });
        if (roleIds) await t.users.setRoles(id, roleIds);
        // a new password or a disable ends every session and token of the user
        const ends = passwordHash !== undefined || (input.disabled === true && !user.disabled);
        return ends ? await endEverything(t, id, now) : undefined;
      });
      if (revoked) await deps.revocationMirror.record(tenant.id, [revoked]);
      return this.get(id);
    },
    /**
     * The user's own password change (account page, or the new password that replaces a temporary
     * one at sign-in): the current password was checked by the caller. Like an admin's change it
     * ends every session and token of the user; audited as `password.changed` with the user as actor.
     */
    async changeOwnPassword(id: string, password: string, reason: 'account' | 'temporary'): Promise<UserRow> {
      const current = await r.users.findById(id);
      if (!current) throw new AppError('not_found', 'user not found');
      assertPasswordAllowed(password, { username: current.username });
      if (await deps.passwords.verify(current.passwordHash, password)) {
        throw new AppError('invalid_request', 'the new password must differ from the current one', {
          errors: [{ path: 'password', message: 'must differ from the current password' }],
        });
      }
      const passwordHash = await deps.passwords.hash(password);
      const revoked = await change(selfActor(id), { type: 'password.changed', target: id, data: { reason } }, async (t) => {
        const now = new Date();
        if (!(await t.users.update(id, { passwordHash, passwordChangedAt: now, mustChangePassword: false }))) throw new AppError('not_found', 'user not found');
        return endEverything(t, id, now);
      });
      await deps.revocationMirror.record(tenant.id, [revoked]);
      const user = await r.users.findById(id);
      if (!user) throw new AppError('not_found', 'user not found');
      return user;
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
