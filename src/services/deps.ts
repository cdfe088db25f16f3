import type { RevocationMirror } from '../security/revocation-list.ts';
import type { Repositories, TenantRepos } from '../repositories/index.ts';
import type { SecretBox } from '../security/crypto.ts';
import type { PasswordHasher } from '../security/passwords.ts';

/** Contract constants (CONTRACT §2–§3). */
export const SYSTEM_TENANT = 'system';
export const TENANT_ADMIN_ROLE = 'tenant-admin';
export { PLATFORM_ADMIN_ROLE, SYSTEM_ACTOR, type Actor } from './policy.ts';
export const ADMIN_CLI_CLIENT = 'admin-cli';
export const ADMIN_SCOPE = 'admin';
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** the repositories of one transaction */
export type UnitOfWork = Parameters<Parameters<Repositories['transaction']>[0]>[0];

export interface ServiceDeps {
  repos: Repositories;
  secretBox: SecretBox;
  passwords: PasswordHasher;
  publicUrl: string;
  clientSecretGraceSeconds: number;
  /** called after a change that a tenant's cached provider must see (clients, resources, roles, keys) */
  onTenantChanged: (tenantId: string) => void;
  /** called after a tenant is created (forgets a cached "unknown tenant" answer) */
  onTenantCreated: (slug: string) => void;
  /** revocations are durable in SQL (written by the services); this mirrors them for fast checks */
  revocationMirror: RevocationMirror;
}

/**
 * A change to what a tenant's cached provider is built from (clients, roles, resources, keys), as
 * one transaction that also raises the tenant's version; then every instance is told (pub/sub).
 * A lost message is caught by the version check (tenants/pool.ts): the one place that publishes.
 */
export async function changeTenant<T>(deps: ServiceDeps, tenantId: string, fn: (tx: UnitOfWork) => Promise<T>, opts?: { lockKey?: number }): Promise<T> {
  const result = await deps.repos.transaction(async (tx) => {
    const r = await fn(tx);
    await tx.tenants.bumpVersion(tenantId);
    return r;
  }, opts);
  deps.onTenantChanged(tenantId);
  return result;
}

export const adminAudience = (publicUrl: string) => `${publicUrl}/admin`;
export const issuerFor = (publicUrl: string, slug: string) => `${publicUrl}/t/${slug}`;

export type { TenantRepos };
