import { AppError } from '../errors.ts';
import type { Repositories, TenantRepos } from '../repositories/index.ts';
import type { SecretBox } from '../security/crypto.ts';
import type { PasswordHasher } from '../security/passwords.ts';

/** Contract constants (CONTRACT §2–§3). */
export const SYSTEM_TENANT = 'system';
export const TENANT_ADMIN_ROLE = 'tenant-admin';
export const PLATFORM_ADMIN_ROLE = 'platform-admin';
export const ADMIN_CLI_CLIENT = 'admin-cli';
export const ADMIN_SCOPE = 'admin';
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

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
}

export const adminAudience = (publicUrl: string) => `${publicUrl}/admin`;
export const issuerFor = (publicUrl: string, slug: string) => `${publicUrl}/t/${slug}`;

/** who performed a change, for the audit trail */
export interface Actor {
  actor: string;
  requestId?: string | null;
  /** only platform admins (and the system itself) may hand out the platform-admin role */
  platformAdmin?: boolean;
}
export const SYSTEM_ACTOR: Actor = { actor: 'system', platformAdmin: true };

export function assertMayAssign(roles: readonly string[] | undefined, actor: Actor): void {
  if (roles?.includes(PLATFORM_ADMIN_ROLE) && !actor.platformAdmin) {
    throw new AppError('forbidden', `only a platform admin may assign the ${PLATFORM_ADMIN_ROLE} role`);
  }
}

export type { TenantRepos };
