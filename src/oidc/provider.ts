/**
 * createProvider: one oidc-provider instance for one tenant (issuer `${PUBLIC_URL}/t/<slug>`).
 * Durable models go to SQL; clients come from the tenant's client directory; JWT access tokens
 * (RFC 9068) are signed with the tenant's active key and carry `roles` and `tenant_id`.
 */
import Provider, { errors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { TenantRepos } from '../repositories/index.ts';
import type { TenantModel } from '../tenants/model.ts';
import { createSqlAdapter } from './adapters/sql.ts';
import type { ClientDirectory } from './adapters/clients.ts';
import * as clientCredentials from './grants/client-credentials.ts';

export interface ProviderDeps {
  model: TenantModel;
  repos: TenantRepos;
  clients: ClientDirectory;
  /** keys that sign oidc-provider's cookies (derived from KEY_ENCRYPTION_KEY) */
  cookieKeys: string[];
  secureCookies: boolean;
}

/** grant types this build serves; a client's other grant types are hidden from oidc-provider */
export const SUPPORTED_GRANT_TYPES: ReadonlySet<string> = new Set(['client_credentials', 'refresh_token', 'authorization_code']);

export function createProvider(deps: ProviderDeps): Provider {
  const { model, repos, clients } = deps;

  const resourceServerInfo = (audience: string) => {
    const resource = model.resources.get(audience);
    if (!resource) throw new errors.InvalidTarget('the requested resource is not known to this tenant');
    return {
      audience: resource.audience,
      scope: resource.scopes.join(' '),
      accessTokenTTL: resource.accessTokenTtl,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: model.signingAlg, kid: model.activeKid } },
    };
  };

  const configuration: Configuration = {
    adapter: (name: string) =>
      name === 'Client' ? clients.adapter(SUPPORTED_GRANT_TYPES) : createSqlAdapter(name, repos.artifacts),
    jwks: { keys: model.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: deps.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies },
      short: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies },
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: {
      // only the tenant's algorithm, for everything we sign
      idTokenSigningAlgValues: [model.signingAlg],
      userinfoSigningAlgValues: [model.signingAlg],
    },
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      id_token_signed_response_alg: model.signingAlg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: KoaContextWithOIDC, client) => (client ? clients.defaultResource(client.clientId) : undefined),
        getResourceServerInfo: async (_ctx: KoaContextWithOIDC, resourceIndicator: string) => resourceServerInfo(resourceIndicator),
        useGrantedResource: async () => true,
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const claims: Record<string, unknown> = { tenant_id: model.slug };
      if (token.kind === 'ClientCredentials') {
        const row = await clients.get((token as unknown as { clientId: string }).clientId);
        claims.roles = row?.roles ?? [];
      }
      return claims;
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 30 * 86400,
      RefreshToken: 30 * 86400,
      IdToken: 3600,
    },
    findAccount: async (_ctx, sub) => {
      const user = await repos.users.findById(sub);
      if (!user || user.disabled) return undefined;
      return { accountId: user.id, claims: async () => ({ sub: user.id, preferred_username: user.username }) };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };

  const provider = new Provider(model.issuer, configuration);
  // behind our own router: trust the forwarded headers that src/server.ts sets from PUBLIC_URL
  provider.proxy = true;
  provider.registerGrantType(
    clientCredentials.grantType,
    clientCredentials.buildHandler({ provider, model, clients }),
    clientCredentials.parameters,
    ['resource'],
  );
  // client secrets are keyed hashes: replace the clear-text comparison
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientId: string }, actual: string) {
    return clients.verifySecret(this.clientId, actual);
  };
  return provider;
}
