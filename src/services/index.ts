/**
 * The service layer shared by the admin API, the CLI, bootstrap and tests.
 * `forTenant(id)` builds the tenant-scoped services; nothing in them can reach another tenant.
 */
import { createAuditService } from './audit.ts';
import { createClientService } from './clients.ts';
import { createKeyService } from './keys.ts';
import type { ServiceDeps } from './deps.ts';
import { createResourceService } from './resources.ts';
import { createRoleService } from './roles.ts';
import { createTenantService } from './tenants.ts';
import { createUserService } from './users.ts';

export function createServices(deps: ServiceDeps) {
  const alg = async (tenantId: string) => (await deps.repos.tenants.findById(tenantId))?.signingAlg ?? 'ES256';
  return {
    tenants: createTenantService(deps),
    forTenant: (tenantId: string) => ({
      keys: createKeyService(deps, tenantId, () => alg(tenantId)),
      resources: createResourceService(deps, tenantId),
      roles: createRoleService(deps, tenantId),
      users: createUserService(deps, tenantId),
      clients: createClientService(deps, tenantId),
      audit: createAuditService(deps, tenantId),
    }),
  };
}
export type Services = ReturnType<typeof createServices>;
export type TenantServices = ReturnType<Services['forTenant']>;
