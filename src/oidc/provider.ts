/**
 * createProvider: one oidc-provider instance for one tenant (issuer `${PUBLIC_URL}/t/<slug>`).
 * Durable models go to SQL; clients come from the tenant's client directory; JWT access tokens
 * (RFC 9068) are signed with the tenant's active key and carry `roles` and `tenant_id`.
 */
import Provider, { errors } from 'oidc-provider';
import type { Client, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { TenantRepos } from '../repositories/index.ts';
import type { LoginGuard } from '../security/login-guard.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import { grantedScopes, type TenantModel } from '../tenants/model.ts';
import { isTesseraAccount, toAccount, type TesseraAccount } from './account.ts';
import type { ClientDirectory } from './adapters/clients.ts';
import { createSqlAdapter } from './adapters/sql.ts';
import { isBadInputError } from '../errors.ts';
import { burnCodeOnWrongVerifier } from './grants/authorization-code.ts';
import * as clientCredentials from './grants/client-credentials.ts';
import * as password from './grants/password.ts';
import { commitRotationOnSuccess } from './grants/refresh-token.ts';
import { tokenEndpoints } from './tokens/endpoints.ts';
import { createCsrf } from './interactions/csrf.ts';
import { interactionRoutes } from './interactions/index.ts';
import { providerPages } from './interactions/provider-pages.ts';
import { interactionPolicyFor } from './interactions/policy.ts';
import { refreshLifetimesOf, refreshTokenTtl } from './lifetimes.ts';
import { applyRateLimits } from './rate-limit.ts';
import { EXTERNAL_SIGNING, signingKeys } from './signing-keys.ts';
import type { Store } from '../store/index.ts';
import type { RevocationList } from '../security/revocation-list.ts';
import type { AccessTokenVerifier } from './tokens/verify.ts';

export interface ProviderDeps {
  model: TenantModel;
  repos: TenantRepos;
  clients: ClientDirectory;
  passwords: PasswordHasher;
  guard: LoginGuard;
  /** keys that sign oidc-provider's cookies (derived from KEY_ENCRYPTION_KEY) */
  cookieKeys: string[];
  secureCookies: boolean;
  refreshTokenAbsoluteTtl: number;
  refreshTokenIdleTtl: number;
  /** seconds after a rotation during which the old refresh token is refused without revoking its grant */
  refreshTokenReuseInterval: number;
  /** browser sign-in session lifetime (seconds) and the time a login/consent page may take */
  sessionTtl: number;
  interactionTtl: number;
  onServerError: (err: Error) => void;
  revocations: RevocationList;
  verifyAccessToken: AccessTokenVerifier;
  store: Store;
  tenantRateLimitPerHour: number | undefined;
  databaseUp: () => boolean;
  /** sign ES256/EdDSA tokens on the event loop (several workers), see signing-keys.ts */
  inlineSigning: boolean;
  /** the audit trail's keyed stand-in for a typed username that is no user */
  pseudonym: (username: string) => string;
}

/** grant types this build serves; a client's other grant types are hidden from oidc-provider */
export const SUPPORTED_GRANT_TYPES: ReadonlySet<string> = new Set([
  'client_credentials',
  'password',
  'refresh_token',
  'authorization_code',
]);

const NOT_ALLOWED = 'requested grant type is not allowed for this client';
const DATABASE_ROUTES = new Set(['/token', '/token/introspection', '/token/revocation']);

export function createProvider(deps: ProviderDeps): Provider {
  const { model, repos, clients } = deps;
  const now = () => Math.floor(Date.now() / 1000);
  // every cookie of this tenant stays under its issuer path: tenants on one host never share a session
  const basePath = new URL(model.issuer).pathname.replace(/\/$/, '');
  const page = { name: model.name, basePath };
  const pages = providerPages(page, clients);

  /** the account a browser session is signed in as, during an authorization request (once per request) */
  const sessionAccounts = new WeakMap<object, Promise<TesseraAccount | undefined>>();
  const sessionAccount = (ctx: KoaContextWithOIDC) => {
    const accountId = (ctx.oidc.entities as { Session?: { accountId?: string } }).Session?.accountId;
    if (!accountId) return undefined;
    let found = sessionAccounts.get(ctx);
    if (!found) {
      found = repos.users.findById(accountId).then((u) => (u && !u.disabled ? toAccount(u) : undefined));
      sessionAccounts.set(ctx, found);
    }
    return found;
  };

  const resourceServerInfo = async (ctx: KoaContextWithOIDC, audience: string) => {
    const resource = model.resources.get(audience);
    if (!resource) throw new errors.InvalidTarget('the requested resource is not known to this tenant');
    // with a signed-in subject (refresh, code, a browser session), only what its current roles
    // grant: a role removed since the sign-in disappears from the next token, and the consent
    // page offers only what the user may have
    const account = ctx.oidc.account ?? (await sessionAccount(ctx));
    let scopes = resource.scopes;
    if (isTesseraAccount(account)) {
      scopes = grantedScopes(model, account.roles, resource);
      if (!scopes.length && resource.scopes.length && ctx.oidc.params?.grant_type === 'refresh_token') {
        throw new errors.InvalidGrant('the subject is no longer granted any scope on this resource');
      }
    }
    // The admin API is reached from a browser only through first-party clients (built-ins that
    // tenant admins cannot change). Otherwise a tenant admin of `system` could point a client a
    // platform admin once consented to at a redirect URI of their own, and collect a platform
    // admin's code (found in review: a redirect-URI change does not re-ask for consent).
    if (resource.builtIn && fromBrowser(ctx) && !(await clients.get(ctx.oidc.client?.clientId ?? ''))?.firstParty) scopes = [];
    return {
      audience: resource.audience,
      scope: scopes.join(' '),
      accessTokenTTL: resource.accessTokenTtl,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: model.signingAlg, kid: model.activeKid } },
    };
  };

  /** an authorization request, or a token request that redeems or refreshes what one granted */
  const fromBrowser = (ctx: KoaContextWithOIDC) => {
    const route = ctx.oidc.route;
    if (route === 'authorization' || route === 'resume') return true;
    const grant = ctx.oidc.params?.grant_type;
    if (grant === 'authorization_code') return true;
    const gty = (ctx.oidc.entities as { RefreshToken?: { gty?: string } }).RefreshToken?.gty;
    return grant === 'refresh_token' && typeof gty === 'string' && gty.includes('authorization_code');
  };

  const refreshLifetimes = (clientId: string | undefined) =>
    refreshLifetimesOf(clientId ? clients.peek(clientId) : undefined, { absolute: deps.refreshTokenAbsoluteTtl, idle: deps.refreshTokenIdleTtl });

  const configuration: Configuration = {
    adapter: (name: string) =>
      name === 'Client'
        ? clients.adapter(SUPPORTED_GRANT_TYPES)
        : createSqlAdapter(name, repos.artifacts, (grantId) => deps.revocations.revokeGrant(grantId), deps.refreshTokenReuseInterval * 1000),
    jwks: { keys: signingKeys(model.keys, deps.inlineSigning) },
    cookies: {
      keys: deps.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, path: `${basePath}/` },
      short: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, path: `${basePath}/` },
    },
    // login and consent pages are Tessera's own (src/oidc/interactions), under the issuer path
    interactions: { url: async (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`, policy: interactionPolicyFor(model) },
    // standard claims only, and only those the user has (see account.ts)
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
    // like the password grant: a client with the refresh_token grant gets a refresh token
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // browser apps (public clients) may call the token endpoint from their registered origins
    clientBasedCORS: (_ctx, origin, client) =>
      origin !== 'null' && client.clientAuthMethod === 'none' && client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin),
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: {
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
      externalSigningSupport: EXTERNAL_SIGNING,
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: KoaContextWithOIDC, client) => (client ? clients.defaultResource(client.clientId) : undefined),
        getResourceServerInfo: async (ctx: KoaContextWithOIDC, resourceIndicator: string) => resourceServerInfo(ctx, resourceIndicator),
        useGrantedResource: async () => true,
      },
    },
    // every use of a refresh token rotates it, for confidential and public clients alike
    rotateRefreshToken: true,
    // claims of the JWT access tokens, added to the payload in place: returned from
    // `extraTokenClaims` they would be spread into every payload, which costs more than the rest
    // of building it (measured, see bench/README.md)
    formats: {
      customizers: {
        jwt: async (ctx, token, jwt) => {
          const claims = jwt.payload;
          // CONTRACT §4, for every grant: never an audience-bound token with an empty scope (a
          // subject whose roles grant nothing of what was asked on an API gets no token for it)
          const audience = token.resourceServer?.audience;
          if (!claims.scope && typeof audience === 'string' && (model.resources.get(audience)?.scopes.length ?? 1) > 0) {
            throw new errors.InvalidScope('requested scope is not granted to this subject for the requested resource', '');
          }
          claims.tenant_id = model.slug;
          if (token.kind === 'ClientCredentials') {
            claims.roles = (await clients.get((token as unknown as { clientId: string }).clientId))?.roles ?? [];
            return;
          }
          const { accountId, grantId } = token as unknown as { accountId?: string; grantId?: string };
          // the grant travels with the token so that revoking the grant reaches its access tokens
          if (grantId) claims.gid = grantId;
          const account = ctx.oidc.account;
          if (isTesseraAccount(account) && account.accountId === accountId) claims.roles = account.roles;
          else claims.roles = accountId ? ((await repos.users.findById(accountId))?.roles ?? []) : [];
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AuthorizationCode: 60,
      Interaction: deps.interactionTtl,
      // SESSION_TTL counts from the sign-in: oidc-provider saves the session again on every
      // authorization request with this ttl, so a constant would make it an idle timeout that an
      // active session never reaches (test/promises/lifetimes.test.ts)
      Session: (_ctx, session) => (session.loginTs ? Math.max(1, session.loginTs + deps.sessionTtl - now()) : deps.sessionTtl),
      Grant: (_ctx, grant) => refreshLifetimes(grant.clientId).absolute,
      IdToken: 3600,
      // idle lifetime, never beyond the absolute lifetime counted from the first sign-in (iiat)
      RefreshToken: (_ctx, token, client) => refreshTokenTtl(refreshLifetimes(client?.clientId), (token as unknown as { iiat?: number }).iiat, now()),
    },
    // re-read at every refresh: a disabled or deleted user gets no new tokens (invalid_grant)
    findAccount: async (_ctx, sub) => {
      const user = await repos.users.findById(sub);
      return user && !user.disabled ? toAccount(user) : undefined;
    },
    // errors a browser sees (e.g. an unregistered redirect_uri) are a page, never a redirect
    renderError: pages.renderError,
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
  provider.registerGrantType(
    password.grantType,
    password.buildHandler({ provider, model, clients, signIn: { tenantId: model.id, repos, passwords: deps.passwords, guard: deps.guard, pseudonym: deps.pseudonym } }),
    password.parameters,
    ['resource'],
  );
  commitRotationOnSuccess(provider, repos.artifacts);
  burnCodeOnWrongVerifier(provider);
  applyRateLimits(provider, { store: deps.store, clients, tenantId: model.id, tenantLimitPerHour: deps.tenantRateLimitPerHour });
  // without the database, the endpoints that need it answer 503 (discovery and JWKS keep answering)
  provider.use((ctx, next) => {
    if (ctx.method === 'POST' && DATABASE_ROUTES.has(ctx.path) && !deps.databaseUp()) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' };
      return;
    }
    return next();
  });
  // a path no route serves: the same JSON 404 as everywhere else on the server (not Koa's text)
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
      ctx.status = 404;
    }
  });
  // introspection and revocation of JWT access tokens and refresh tokens (oidc-provider refuses JWTs)
  provider.use(
    tokenEndpoints({
      provider,
      model,
      repos,
      clients,
      revocations: deps.revocations,
      verifyAccessToken: (token) => deps.verifyAccessToken(token),
      onServerError: deps.onServerError,
    }),
  );
  // browser sign-in: login, consent and the pages' stylesheet
  provider.use(
    interactionRoutes({
      provider,
      model,
      repos,
      clients,
      signIn: { tenantId: model.id, repos, passwords: deps.passwords, guard: deps.guard, pseudonym: deps.pseudonym },
      csrf: createCsrf(deps.cookieKeys[0]!, `${basePath}/interaction/`, deps.secureCookies),
      page,
      basePath,
      onServerError: deps.onServerError,
    }),
  );
  // one Client instance per directory row. oidc-provider's own lookup rebuilds the metadata,
  // serialises and hashes it on every request; a row is replaced (and the tenant rebuilt)
  // whenever its client changes, so an instance kept for a row is never stale
  const findClient = provider.Client.find.bind(provider.Client);
  const instances = new WeakMap<object, Client>();
  provider.Client.find = async function find(id: string) {
    const row = typeof id === 'string' && id ? await clients.get(id) : undefined;
    if (!row) return findClient(id);
    let client = instances.get(row);
    if (!client) {
      client = await findClient(id);
      if (client) instances.set(row, client);
    }
    return client;
  };
  // client secrets are keyed hashes: replace the clear-text comparison
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientId: string }, actual: string) {
    return clients.verifySecret(this.clientId, actual);
  };

  const audit = (ctx: KoaContextWithOIDC, type: string, data: Record<string, string>) =>
    repos.audit
      .record({ type, actor: ctx.oidc.client ? `client:${ctx.oidc.client.clientId}` : 'anonymous', data })
      .catch(() => {});

  // the error handler has written the body by the time these (synchronous) events fire
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { retryAfter?: number; error_description?: string }) => {
    if (err.retryAfter) ctx.set('Retry-After', String(err.retryAfter));
    // RFC 6749 §5.2: a grant the client may not use is unauthorized_client (oidc-provider says invalid_request)
    if (err instanceof errors.InvalidRequest && err.error_description === NOT_ALLOWED) {
      ctx.body = { error: 'unauthorized_client', error_description: NOT_ALLOWED };
    }
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token') void audit(ctx, 'refresh.reuse_detected', { grant_id: grantId });
  });
  // an unexpected failure (database down, bug) is a 503 for the caller, with no details; input
  // the database refused (a NUL byte that slipped past the checks) is the caller's 400
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    if (isBadInputError(err)) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'the request contains characters or values that are not allowed' };
      return;
    }
    deps.onServerError(err);
    ctx.status = 503;
    ctx.set('Retry-After', '5');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' };
  });
  return provider;
}
