/**
 * The authorization policy of the admin API: the one place that decides whether an actor may
 * perform an operation on a target (CONTRACT §5). It is pure; two enforcement points consult it:
 *  - the admin router, before anything is read: may this actor perform this operation in this
 *    tenant at all?
 *  - the services, inside the transaction that makes the change, with the target's row locked:
 *    may it perform it on *this* target, assigning *these* roles? (The target's roles are read under
 *    the lock, so a concurrent role change cannot slip between the decision and the change.)
 *
 * Actors:  system (bootstrap, the operator CLI)  ·  platform admin (`platform-admin` in `system`)
 *          ·  tenant admin of T (`tenant-admin` in T)  ·  anyone else (no admin role)
 * Rules:
 *  1. Platform operations (create or list tenants): platform admins only.
 *  2. Tenant operations: platform admins anywhere; tenant admins in their own tenant.
 *  3. Only a platform admin assigns `platform-admin`.
 *  4. Protected principals: only a platform admin changes, resets the password or second factors of, disables,
 *     deletes, rotates the secret of, or removes a role from a user or client holding `platform-admin`
 *     — nor changes or deletes a role such a principal holds (that removes or changes it for them).
 *     Nor the MFA policy of `system`, which covers platform admins.
 *  5. Built-ins (the `admin-cli` client, the `tenant-admin` and `platform-admin` roles, the admin API
 *     resource) cannot be changed by tenant admins. (Platform admins still meet the services'
 *     invariants: a built-in cannot be deleted, nor its grants or scopes changed: 409.)
 * Reading is allowed wherever rule 2 allows.
 */
import { PLATFORM_ADMIN_ROLE, type Actor, type Authority } from '../contract.ts';
import { AppError } from '../errors.ts';

type Scope = 'platform' | 'tenant';
interface OperationRule {
  scope: Scope;
  /** the operation changes an existing target (rules 4 and 5 apply) */
  changesTarget?: true;
}

/** every operation of the admin API */
export const OPERATIONS = {
  'tenant.create': { scope: 'platform' },
  'tenant.list': { scope: 'platform' },
  'tenant.read': { scope: 'tenant' },
  'tenant.update': { scope: 'tenant', changesTarget: true },
  'resource.create': { scope: 'tenant' },
  'resource.list': { scope: 'tenant' },
  'resource.read': { scope: 'tenant' },
  'resource.update': { scope: 'tenant', changesTarget: true },
  'resource.delete': { scope: 'tenant', changesTarget: true },
  'role.create': { scope: 'tenant' },
  'role.list': { scope: 'tenant' },
  'role.read': { scope: 'tenant' },
  'role.update': { scope: 'tenant', changesTarget: true },
  'role.delete': { scope: 'tenant', changesTarget: true },
  'user.create': { scope: 'tenant' },
  'user.list': { scope: 'tenant' },
  'user.read': { scope: 'tenant' },
  'user.update': { scope: 'tenant', changesTarget: true },
  'user.delete': { scope: 'tenant', changesTarget: true },
  'user.mfa_reset': { scope: 'tenant', changesTarget: true },
  'client.create': { scope: 'tenant' },
  'client.list': { scope: 'tenant' },
  'client.read': { scope: 'tenant' },
  'client.update': { scope: 'tenant', changesTarget: true },
  'client.delete': { scope: 'tenant', changesTarget: true },
  'client.rotate_secret': { scope: 'tenant', changesTarget: true },
  'keys.list': { scope: 'tenant' },
  'keys.rotate': { scope: 'tenant' },
  'audit.list': { scope: 'tenant' },
} as const satisfies Record<string, OperationRule>;
export type Operation = keyof typeof OPERATIONS;

/** what the policy needs to know about an existing target */
export interface TargetFacts {
  builtIn?: boolean;
  /** roles the target (user or client) holds now */
  roles?: readonly string[];
  /** a role: a principal holding `platform-admin` holds it too */
  heldByProtected?: boolean;
  /** a setting that protects platform admins (the MFA policy of `system`) */
  protectsPlatformAdmins?: boolean;
}

export interface Request {
  operation: Operation;
  /** the tenant acted on: its slug (router) or its id (services) */
  tenant?: { slug: string } | { id: string };
  target?: TargetFacts;
  /** roles the operation gives (creation, or the new role list of a change) */
  assigns?: readonly string[] | undefined;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const deny = (reason: string): Decision => ({ allowed: false, reason });

export function decide(authority: Authority, r: Request): Decision {
  if (authority.kind === 'system') return { allowed: true };
  const platform = authority.kind === 'platform-admin';
  const rule: OperationRule = OPERATIONS[r.operation];
  if (rule.scope === 'platform' && !platform) return deny('only a platform admin may do this');
  if (rule.scope === 'tenant' && !platform) {
    if (authority.kind !== 'tenant-admin') return deny('this token may not administer that tenant');
    const t = r.tenant;
    const own = t !== undefined && ('slug' in t ? t.slug === authority.tenant : t.id === authority.tenantId);
    if (!own) return deny('this token may not administer that tenant');
  }
  if (!platform && r.assigns?.includes(PLATFORM_ADMIN_ROLE)) return deny(`only a platform admin may assign the ${PLATFORM_ADMIN_ROLE} role`);
  if (rule.changesTarget && r.target && !platform) {
    if (r.target.builtIn) return deny('built-in clients, roles and resources cannot be changed by tenant admins');
    if (r.target.roles?.includes(PLATFORM_ADMIN_ROLE)) return deny(`only a platform admin may change a principal that holds ${PLATFORM_ADMIN_ROLE}`);
    if (r.target.heldByProtected) return deny(`only a platform admin may change a role that a holder of ${PLATFORM_ADMIN_ROLE} holds`);
    if (r.target.protectsPlatformAdmins) return deny(`only a platform admin may change a setting that protects holders of ${PLATFORM_ADMIN_ROLE}`);
  }
  return { allowed: true };
}

/** throws 403 unless `actor` may do what `r` describes */
export function authorize(actor: Actor, r: Request): void {
  const d = decide(actor.authority, r);
  if (!d.allowed) throw new AppError('forbidden', d.reason);
}
