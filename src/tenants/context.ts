/**
 * TenantContext: everything one tenant is, built once from its row by the pool (and by the CLI),
 * like Logto's `tenants/Tenant.ts`: repositories (scope fixed here) → services → the in-memory
 * model (APIs, roles, keys) → client directory → access-token verifier and revocation list. The
 * serving part (oidc-provider and the request handler) is added by tenants/serve.ts; everything
 * here works without it (the CLI never loads oidc-provider).
 */
import type { JWK } from 'jose';
import { issuerFor } from '../contract.ts';
import type { TenantSettings } from '../config/tenant-settings.ts';
import type { TenantRepos } from '../repositories/index.ts';
import type { RevocationQuery } from '../repositories/revocations.ts';
import type { TenantRow } from '../repositories/tenants.ts';
import { openPrivateJwk } from '../security/signing-keys.ts';
import { createTenantServices, type TenantServices } from '../services/index.ts';
import { tenantScope, type ServiceDeps } from '../services/deps.ts';
import { createRevocationList, type RevocationList, type RevocationMirror } from '../services/revocation-list.ts';
import type { SecretBox } from '../security/crypto.ts';
import { createClientDirectory, type ClientDirectory } from '../oidc/adapters/clients.ts';
import { buildTenantModel, type TenantModel } from '../oidc/model.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../oidc/tokens/verify.ts';

export interface TenantContext {
  readonly id: string;
  readonly slug: string;
  readonly issuer: string;
  /** the version of the row this context was built from (tenants/pool.ts compares it) */
  readonly version: number;
  readonly settings: TenantSettings;
  readonly repos: TenantRepos;
  readonly services: TenantServices;
  readonly model: TenantModel;
  readonly clients: ClientDirectory;
  readonly revocations: RevocationList;
  /** verifies an access token issued by this tenant (signature with its own keys, typ, iss, aud, exp) */
  readonly verifyAccessToken: AccessTokenVerifier;
  /** whether a token has been revoked: by jti, by grant, or by its subjects' cut-off */
  isRevoked(q: RevocationQuery): Promise<boolean>;
}

/** what every tenant shares (core.ts) */
export interface TenantShared {
  readonly publicUrl: string;
  readonly settings: TenantSettings;
  readonly secretBox: SecretBox;
  readonly revocationMirror: RevocationMirror;
  readonly serviceDeps: ServiceDeps;
}

export async function createTenantContext(core: TenantShared, row: TenantRow): Promise<TenantContext> {
  const scope = tenantScope(core.serviceDeps, { id: row.id });
  const repos = scope.repos;
  const [resources, roles, keys] = await Promise.all([repos.resources.listAll(), repos.roles.listAll(), repos.keys.listPublished()]);
  const active = keys.find((k) => k.state === 'active');
  if (!active) throw new Error(`tenant ${row.slug} has no active signing key`);
  const ordered = [active, ...keys.filter((k) => k !== active)];
  const issuer = issuerFor(core.publicUrl, row.slug);
  const model = buildTenantModel({
    id: row.id,
    slug: row.slug,
    name: row.name,
    issuer,
    signingAlg: row.signingAlg,
    resources,
    roles,
    keys: ordered.map((k) => openPrivateJwk(k, row.id, core.secretBox)),
    publicKeys: ordered.map((k) => k.publicJwk as unknown as JWK),
    activeKid: active.kid,
  });
  const revocations = createRevocationList(core.revocationMirror, repos.revocations, repos.artifacts, row.id);
  return {
    id: row.id,
    slug: row.slug,
    issuer,
    version: row.version,
    settings: core.settings,
    repos,
    services: createTenantServices(scope),
    model,
    clients: createClientDirectory(repos.clients, model, core.secretBox),
    revocations,
    verifyAccessToken: createAccessTokenVerifier(model),
    isRevoked: (q) => revocations.isRevoked(q),
  };
}
