/**
 * What the services are built from: the platform's shared pieces (`ServiceDeps`) and, for the
 * tenant-scoped services, one tenant's scope (`TenantScope`) with the one way to change it
 * (`change`): a tenant-scoped transaction that records its audit event in the same transaction,
 * translates a duplicate into a 409 saying what it means, and, when the change alters what the
 * tenant's cached provider is built from, raises the tenant's version and tells every instance.
 */
import type { Actor } from '../contract.ts';
import { fromDatabaseError } from '../errors.ts';
import type { AuditInput } from '../repositories/audit.ts';
import type { Repositories, TenantRepos } from '../repositories/index.ts';
import type { SecretBox } from '../security/crypto.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import type { RevocationMirror } from './revocation-list.ts';

/** what a change tells every instance (tenants/events.ts publishes it) */
export interface TenantEvents {
  /** what a tenant's cached provider is built from (clients, roles, resources, keys) changed */
  changed(tenantId: string): void;
  /** a tenant was created (forgets a cached "unknown tenant" answer) */
  created(slug: string): void;
}

export interface ServiceDeps {
  repos: Repositories;
  secretBox: SecretBox;
  passwords: PasswordHasher;
  publicUrl: string;
  clientSecretGraceSeconds: number;
  events: TenantEvents;
  /** revocations are durable in SQL (written by the services); this mirrors them for fast checks */
  revocationMirror: RevocationMirror;
}

/** the repositories of one transaction */
export type UnitOfWork = Parameters<Parameters<Repositories['transaction']>[0]>[0];

/** the database's duplicate as a 409 with `conflict` as its message; `lockKey` serialises it against other processes */
export async function transact<T>(repos: Repositories, fn: (tx: UnitOfWork) => Promise<T>, opts: { conflict?: string; lockKey?: number } = {}): Promise<T> {
  try {
    return await repos.transaction(fn, opts.lockKey !== undefined ? { lockKey: opts.lockKey } : {});
  } catch (err) {
    throw fromDatabaseError(err, opts.conflict) ?? err;
  }
}

export interface ChangeSpec<T> {
  /** the audit event's type, e.g. `user.created` */
  type: string;
  target?: string | ((result: T) => string);
  data?: AuditInput['data'] | ((result: T) => AuditInput['data']);
  /** the tenant's cached provider is built from what changes (clients, roles, resources, keys) */
  invalidates?: boolean;
  /** what a duplicate means here (409) */
  conflict?: string;
  lockKey?: number;
}

export interface TenantScope {
  deps: ServiceDeps;
  tenant: { id: string };
  /** this tenant's repositories, outside any transaction */
  repos: TenantRepos;
  change<T>(actor: Actor, spec: ChangeSpec<T>, fn: (t: TenantRepos) => Promise<T>): Promise<T>;
}

export function tenantScope(deps: ServiceDeps, tenant: TenantScope['tenant']): TenantScope {
  return {
    deps,
    tenant,
    repos: deps.repos.forTenant(tenant.id),
    async change(actor, spec, fn) {
      const result = await transact(
        deps.repos,
        async (tx) => {
          const t = tx.forTenant(tenant.id);
          const r = await fn(t);
          const target = typeof spec.target === 'function' ? spec.target(r) : spec.target;
          const data = typeof spec.data === 'function' ? spec.data(r) : spec.data;
          await t.audit.record({ type: spec.type, actor: actor.actor, ...(target !== undefined ? { target } : {}), ...(data ? { data } : {}) });
          if (spec.invalidates) await tx.tenants.bumpVersion(tenant.id);
          return r;
        },
        spec,
      );
      if (spec.invalidates) deps.events.changed(tenant.id);
      return result;
    },
  };
}

export type { TenantRepos };
