/**
 * TenantContext: one tenant as the platform acts on it, built from its row, like Logto's
 * `tenants/Tenant.ts`: its repositories (tenant fixed here), its services and its settings slice.
 * Building it reads nothing and cannot fail: the admin API and the CLI can always act on a tenant,
 * even one whose keys cannot be opened (key rotation is how such a tenant is repaired). The
 * serving part — model, client directory, verifier, revocation list, oidc-provider — is added by
 * tenants/serve.ts for the pool.
 */
import { type PlatformSettings, settingsFor, type TenantSettings } from '../config/tenant-settings.ts';
import { issuerFor } from '../contract.ts';
import type { TenantRepos } from '../repositories/index.ts';
import type { TenantRow } from '../repositories/tenants.ts';
import { type ServiceDeps, tenantScope } from '../services/deps.ts';
import { createTenantServices, type TenantServices } from '../services/index.ts';
import { mfaPolicyOf } from '../services/tenants.ts';

export interface TenantContext {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly issuer: string;
  readonly signingAlg: TenantRow['signingAlg'];
  /** the version of the row this context was built from (tenants/pool.ts compares it) */
  readonly version: number;
  readonly settings: TenantSettings;
  readonly repos: TenantRepos;
  readonly services: TenantServices;
}

/** what every tenant shares (core.ts) */
export interface TenantShared {
  readonly publicUrl: string;
  readonly settings: PlatformSettings;
  readonly serviceDeps: ServiceDeps;
}

export function createTenantContext(core: TenantShared, row: TenantRow): TenantContext {
  const scope = tenantScope(core.serviceDeps, { id: row.id });
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    issuer: issuerFor(core.publicUrl, row.slug),
    signingAlg: row.signingAlg,
    version: row.version,
    settings: settingsFor(core.settings, { mfa: mfaPolicyOf(row) }),
    repos: scope.repos,
    services: createTenantServices(scope),
  };
}
