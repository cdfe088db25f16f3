/**
 * A tenant as the server serves it, built by the pool: its context (tenants/context.ts) plus the
 * in-memory model (APIs, roles, opened signing keys), the client directory, the access-token
 * verifier and revocation list, its oidc-provider and the request handler the server hands
 * `/t/<slug>/*` to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { type ClientDirectory, createClientDirectory } from '../oidc/adapters/clients.ts';
import { buildTenantModel, type TenantModel } from '../oidc/model.ts';
import { createProvider } from '../oidc/provider.ts';
import type { OidcShared } from '../oidc/tenant.ts';
import { type AccessTokenVerifier, createAccessTokenVerifier } from '../oidc/tokens/verify.ts';
import type { SecretBox } from '../security/crypto.ts';
import { openPrivateJwk } from '../security/signing-keys.ts';
import { createRevocationList, type RevocationList, type RevocationMirror } from '../services/revocation-list.ts';
import type { TenantContext } from './context.ts';

export interface ServedTenant extends TenantContext {
  readonly model: TenantModel;
  readonly clients: ClientDirectory;
  readonly revocations: RevocationList;
  /** verifies an access token issued by this tenant (signature with its own keys, typ, iss, aud, exp) */
  readonly verifyAccessToken: AccessTokenVerifier;
  readonly provider: Provider;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface ServingDeps extends OidcShared {
  readonly secretBox: SecretBox;
  readonly revocationMirror: RevocationMirror;
  /** the request middleware (ids, logs, metrics) that runs first in the tenant's provider */
  observe: (slug: string, provider: Provider) => Middleware;
}

export async function serveTenant(tenant: TenantContext, deps: ServingDeps): Promise<ServedTenant> {
  const { repos } = tenant;
  const [resources, roles, keys] = await Promise.all([repos.resources.listAll(), repos.roles.listAll(), repos.keys.listPublished()]);
  const active = keys.find((k) => k.state === 'active');
  if (!active) throw new Error(`tenant ${tenant.slug} has no active signing key`);
  const ordered = [active, ...keys.filter((k) => k !== active)];
  const model = buildTenantModel({
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    issuer: tenant.issuer,
    signingAlg: tenant.signingAlg,
    resources,
    roles,
    keys: ordered.map((k) => openPrivateJwk(k, tenant.id, deps.secretBox)),
    publicKeys: ordered.map((k) => k.publicJwk as unknown as JWK),
    activeKid: active.kid,
  });
  const revocations = createRevocationList(deps.revocationMirror, repos.revocations, repos.artifacts, tenant.id);
  const oidc = {
    ...tenant,
    model,
    clients: createClientDirectory(repos.clients, model, deps.secretBox),
    revocations,
    verifyAccessToken: createAccessTokenVerifier(model),
  };
  const provider = createProvider(oidc, deps);
  // first of all of the provider's middleware, so it also sees what the others answer or throw
  provider.middleware.unshift(deps.observe(tenant.slug, provider));
  // anything that still escapes is answered by that middleware; Koa must not print it
  provider.silent = true;
  const handle = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  return { ...oidc, provider, handle };
}
