/**
 * The in-memory view of one tenant that its provider works from: resources by audience, what
 * each role grants, and its signing keys. Built when the tenant is loaded and thrown away (with
 * the provider) when the tenant changes, so it is never stale for longer than an invalidation.
 */
import type { JWK } from 'jose';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { ResourceRow } from '../repositories/resources.ts';
import type { RoleRow } from '../repositories/roles.ts';

export interface TenantModel {
  id: string;
  slug: string;
  name: string;
  issuer: string;
  signingAlg: SigningAlg;
  resources: ReadonlyMap<string, ResourceRow>;
  resourcesById: ReadonlyMap<string, ResourceRow>;
  /** role name → set of `${resourceId} ${scope}` it grants */
  grants: ReadonlyMap<string, ReadonlySet<string>>;
  /** private JWKs, the active (signing) key first */
  keys: JWK[];
  /** what JWKS publishes: next, active and still-published retired keys */
  publicKeys: JWK[];
  activeKid: string;
}

export function buildTenantModel(
  input: Omit<TenantModel, 'resources' | 'resourcesById' | 'grants'> & {
    resources: ResourceRow[];
    roles: RoleRow[];
  },
): TenantModel {
  const { resources, roles, ...rest } = input;
  return {
    ...rest,
    resources: new Map(resources.map((r) => [r.audience, r])),
    resourcesById: new Map(resources.map((r) => [r.id, r])),
    grants: new Map(roles.map((role) => [role.name, new Set(role.permissions.map((p) => `${p.resourceId} ${p.scope}`))])),
  };
}

/** the scopes of `resource` that at least one of `roleNames` grants, in the resource's order */
export function grantedScopes(model: TenantModel, roleNames: readonly string[], resource: ResourceRow): string[] {
  const sets = roleNames.map((n) => model.grants.get(n)).filter((s): s is ReadonlySet<string> => s !== undefined);
  return resource.scopes.filter((scope) => sets.some((s) => s.has(`${resource.id} ${scope}`)));
}
