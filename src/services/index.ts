/**
 * The service layer shared by the admin API, the CLI, bootstrap and tests: the platform's
 * (`tenants`) and one tenant's (`forTenant(id)`: nothing in them can reach another tenant). A
 * tenant's context (tenants/context.ts) builds its services once; `forTenant` is for callers that
 * act on a tenant without serving it (bootstrap, tests).
 */
import { createAuditService } from './audit.ts';
import { createClientService } from './clients.ts';
import { createKeyService } from './keys.ts';
import { createMfaService } from './mfa.ts';
import { tenantScope, type ServiceDeps, type TenantScope } from './deps.ts';
import { createResourceService } from './resources.ts';
import { createRoleService } from './roles.ts';
import { createTenantService } from './tenants.ts';
import { createUserService } from './users.ts';

export function createTenantServices(scope: TenantScope) {
  return {
    keys: createKeyService(scope),
    resources: createResourceService(scope),
    roles: createRoleService(scope),
    users: createUserService(scope),
    mfa: createMfaService(scope),
    clients: createClientService(scope),
    audit: createAuditService(scope),
  };
}
export type TenantServices = ReturnType<typeof createTenantServices>;

export function createServices(deps: ServiceDeps) {
  return {
    tenants: createTenantService(deps),
    forTenant: (tenantId: string): TenantServices => createTenantServices(tenantScope(deps, { id: tenantId })),
  };
}
export type Services = ReturnType<typeof createServices>;
