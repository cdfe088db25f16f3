/**
 * Builds one tenant: its repositories (scope fixed here), its in-memory model, its client
 * directory and its oidc-provider, plus the request handler the server hands `/t/<slug>/*` to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Repositories } from '../repositories/index.ts';
import type { TenantRow } from '../repositories/tenants.ts';
import type { SecretBox } from '../security/crypto.ts';
import { openPrivateJwk } from '../services/keys.ts';
import { issuerFor } from '../services/deps.ts';
import { createClientDirectory } from '../oidc/adapters/clients.ts';
import { createProvider } from '../oidc/provider.ts';
import { createRevocationList, type RevocationMirror } from '../security/revocation-list.ts';
import type { RevocationQuery } from '../repositories/revocations.ts';
import { usernameKey } from '../security/usernames.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../oidc/tokens/verify.ts';
import type { Store } from '../store/index.ts';
import type { LoginGuard } from '../security/login-guard.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import { buildTenantModel, type TenantModel } from './model.ts';

export interface Tenant {
  readonly model: TenantModel;
  readonly provider: Provider;
  /** verifies an access token issued by this tenant (signature with its own keys, typ, iss, aud, exp) */
  verifyAccessToken: AccessTokenVerifier;
  /** whether a token has been revoked: by jti, by grant, or by its subjects' cut-off */
  isRevoked(q: RevocationQuery): Promise<boolean>;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface TenantBuildDeps {
  repos: Repositories;
  secretBox: SecretBox;
  publicUrl: string;
  cookieKeys: string[];
  passwords: PasswordHasher;
  guard: LoginGuard;
  store: Store;
  revocationMirror: RevocationMirror;
  tenantRateLimitPerHour: number | undefined;
  /** false while the database does not answer (see db/monitor.ts) */
  databaseUp: () => boolean;
  refreshTokenAbsoluteTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenReuseInterval: number;
  /** browser sign-in session and interaction lifetimes (seconds) */
  sessionTtl: number;
  interactionTtl: number;
  onServerError: (err: Error) => void;
  /** sign ES256/EdDSA on the event loop (WEB_CONCURRENCY > 1), see oidc/signing-keys.ts */
  inlineSigning: boolean;
  /** the request middleware (ids, logs, metrics) that runs first in the tenant's provider */
  observe: (slug: string, provider: Provider) => Middleware;
}

export async function buildTenant(deps: TenantBuildDeps, row: TenantRow): Promise<Tenant> {
  const repos = deps.repos.forTenant(row.id);
  const [resources, roles, keys] = await Promise.all([repos.resources.listAll(), repos.roles.listAll(), repos.keys.listPublished()]);
  const active = keys.find((k) => k.state === 'active');
  if (!active) throw new Error(`tenant ${row.slug} has no active signing key`);
  const ordered = [active, ...keys.filter((k) => k !== active)];
  const model = buildTenantModel({
    id: row.id,
    slug: row.slug,
    name: row.name,
    issuer: issuerFor(deps.publicUrl, row.slug),
    signingAlg: row.signingAlg,
    resources,
    roles,
    keys: ordered.map((k) => openPrivateJwk(k, row.id, deps.secretBox)),
    publicKeys: ordered.map((k) => k.publicJwk as unknown as JWK),
    activeKid: active.kid,
  });
  const clients = createClientDirectory(repos.clients, model, deps.secretBox);
  const verifyAccessToken = createAccessTokenVerifier(model);
  const revocations = createRevocationList(deps.revocationMirror, repos.revocations, repos.artifacts, row.id);
  const provider = createProvider({
    revocations,
    store: deps.store,
    tenantRateLimitPerHour: deps.tenantRateLimitPerHour,
    databaseUp: deps.databaseUp,
    inlineSigning: deps.inlineSigning,
    verifyAccessToken,
    model,
    repos,
    clients,
    cookieKeys: deps.cookieKeys,
    secureCookies: deps.publicUrl.startsWith('https:'),
    passwords: deps.passwords,
    guard: deps.guard,
    refreshTokenAbsoluteTtl: deps.refreshTokenAbsoluteTtl,
    refreshTokenIdleTtl: deps.refreshTokenIdleTtl,
    refreshTokenReuseInterval: deps.refreshTokenReuseInterval,
    sessionTtl: deps.sessionTtl,
    interactionTtl: deps.interactionTtl,
    onServerError: deps.onServerError,
    pseudonym: (username) => deps.secretBox.pseudonym(usernameKey(username)),
  });
  // first of all of the provider's middleware, so it also sees what the others answer or throw
  provider.middleware.unshift(deps.observe(row.slug, provider));
  // anything that still escapes is answered by that middleware; Koa must not print it
  provider.silent = true;
  const callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  return {
    model,
    provider,
    verifyAccessToken,
    isRevoked: (q) => revocations.isRevoked(q),
    handle: callback,
  };
}
