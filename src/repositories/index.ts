/**
 * Repositories are the only Prisma callers. Each is built for one tenant (the scope is fixed at
 * construction); `transaction` runs a unit of work with every repository on one transaction.
 */
import type { PrismaClient } from '../db/database.ts';
import type { Db } from './db.ts';
import { createArtifactRepository } from './artifacts.ts';
import { createAuditRepository } from './audit.ts';
import { createClientRepository } from './clients.ts';
import { createSigningKeyRepository } from './keys.ts';
import { createMfaRepository } from './mfa.ts';
import { createResourceRepository } from './resources.ts';
import { createRevocationRepository } from './revocations.ts';
import { createRoleRepository } from './roles.ts';
import { createTenantRepository } from './tenants.ts';
import { createUserRepository } from './users.ts';

export function tenantRepositories(db: Db, tenantId: string) {
  return {
    tenantId,
    resources: createResourceRepository(db, tenantId),
    roles: createRoleRepository(db, tenantId),
    users: createUserRepository(db, tenantId),
    mfa: createMfaRepository(db, tenantId),
    clients: createClientRepository(db, tenantId),
    keys: createSigningKeyRepository(db, tenantId),
    audit: createAuditRepository(db, tenantId),
    artifacts: createArtifactRepository(db, tenantId),
    revocations: createRevocationRepository(db, tenantId),
  };
}
export type TenantRepos = ReturnType<typeof tenantRepositories>;

export function createRepositories(prisma: PrismaClient) {
  return {
    tenants: createTenantRepository(prisma),
    forTenant: (tenantId: string) => tenantRepositories(prisma, tenantId),
    /** one transaction; `lockKey` serialises it against other processes (pg_advisory_xact_lock) */
    transaction<T>(
      fn: (tx: { tenants: ReturnType<typeof createTenantRepository>; forTenant: (tenantId: string) => TenantRepos }) => Promise<T>,
      opts: { lockKey?: number } = {},
    ): Promise<T> {
      return prisma.$transaction(
        async (tx) => {
          if (opts.lockKey !== undefined) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${opts.lockKey})`;
          return fn({ tenants: createTenantRepository(tx), forTenant: (id) => tenantRepositories(tx, id) });
        },
        { timeout: 30_000, maxWait: 30_000 },
      );
    },
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
