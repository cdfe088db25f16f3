/**
 * createProvider: the configuration of one tenant's oidc-provider (issuer `${PUBLIC_URL}/t/<slug>`).
 * Durable models go to SQL; clients come from the tenant's client directory; JWT access tokens
 * (RFC 9068) are signed with the tenant's active key and carry `roles` and `tenant_id`. What is
 * installed on the instance lives in its own module, listed at the end in the order it runs.
 */
import Provider, { errors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { ACCESS_TOKEN_TTL, AUTHORIZATION_CODE_TTL, GRANT_TYPES } from '../contract.ts';
import type { UserRow } from '../repositories/users.ts';
import { lacksSecondFactor } from './sign-in.ts';
import { OAuthError } from '../http/oauth-error.ts';
import { grantedScopes } from './model.ts';
import { isTesseraAccount, toAccount, type TesseraAccount } from './account.ts';
import { authenticationOf } from './authentication.ts';
import { createSqlAdapter } from './adapters/sql.ts';
import { databaseGuard } from './database-guard.ts';
import { listenToProvider } from './events.ts';
import { registerGrants } from './grants/index.ts';
import { tokenEndpoints } from './tokens/endpoints.ts';
import { createCsrf } from './interactions/csrf.ts';
import { interactionRoutes } from './interactions/index.ts';
import { showLogin } from './interactions/login.ts';
import { accountRoutes } from './interactions/account.ts';
import { createPasskeyRp } from './webauthn.ts';
import { providerPages } from './interactions/provider-pages.ts';
import { interactionPolicyFor } from './interactions/policy.ts';
import { refreshLifetimesOf, refreshTokenTtl } from './lifetimes.ts';
import { applyRateLimits } from './rate-limit.ts';
import { EXTERNAL_SIGNING, signingKeys } from './signing-keys.ts';
import { signInDepsOf, type OidcShared, type OidcTenant } from './tenant.ts';
import { patchClientLookup } from './upstream.ts';

/** grant types this build serves; a client's other grant types are hidden from oidc-provider */
const SUPPORTED_GRANT_TYPES: ReadonlySet<string> = new Set(GRANT_TYPES);

export function createProvider(tenant: OidcTenant, shared: OidcShared): Provider {
  const { model, repos, clients, settings } = tenant;
  const now = () => Math.floor(Date.now() / 1000);
  // every cookie of this tenant stays under its issuer path: tenants on one host never share a session
  const basePath = new URL(model.issuer).pathname.replace(/\/$/, '');
  const page = { name: model.name, basePath };
  const pages = providerPages(page, clients);

  /** the user a browser session is signed in as, during an authorization request (read once per request) */
  const sessionUsers = new WeakMap<object, Promise<UserRow | null>>();
  const sessionUser = (ctx: KoaContextWithOIDC, accountId: string) => {
    let found = sessionUsers.get(ctx);
    if (!found) {
      found = repos.users.findById(accountId);
      sessionUsers.set(ctx, found);
    }
    return found;
  };
  const sessionAccount = async (ctx: KoaContextWithOIDC): Promise<TesseraAccount | undefined> => {
    const accountId = (ctx.oidc.entities as { Session?: { accountId?: string } }).Session?.accountId;
    if (!accountId) return undefined;
    const u = await sessionUser(ctx, accountId);
    return u && !u.disabled ? toAccount(u) : undefined;
  };

  /** the browser session signed in without the second factor its user has or the policy requires */
  const needsSecondFactor = async (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    if (!session?.accountId || session.amr?.includes('mfa')) return false;
    const user = await sessionUser(ctx, session.accountId);
    return user !== null && lacksSecondFactor(user, session.amr, settings.mfa);
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
    refreshLifetimesOf(clientId ? clients.peek(clientId) : undefined, { absolute: settings.refreshTokenAbsoluteTtl, idle: settings.refreshTokenIdleTtl });

  const configuration: Configuration = {
    adapter: (name: string) =>
      name === 'Client'
        ? clients.adapter(SUPPORTED_GRANT_TYPES)
        : createSqlAdapter(name, repos.artifacts, (grantId) => tenant.revocations.revokeGrant(grantId), settings.refreshTokenReuseInterval * 1000),
    jwks: { keys: signingKeys(model.keys, settings.inlineSigning) },
    cookies: {
      keys: shared.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: settings.secureCookies, path: `${basePath}/` },
      short: { httpOnly: true, sameSite: 'lax', secure: settings.secureCookies, path: `${basePath}/` },
    },
    // login and consent pages are Tessera's own (src/oidc/interactions), under the issuer path
    interactions: { url: async (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`, policy: interactionPolicyFor(model, needsSecondFactor) },
    // standard claims only, and only those the user has (see account.ts)
    claims: { openid: ['sub', 'amr', 'auth_time'], profile: ['preferred_username'], email: ['email'] },
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
          // how the user signed in (RFC 8176), for APIs that require a second factor
          const signedIn = authenticationOf(ctx);
          if (signedIn) {
            claims.amr = signedIn.amr;
            claims.auth_time = signedIn.authTime;
          }
          const account = ctx.oidc.account;
          if (isTesseraAccount(account) && account.accountId === accountId) claims.roles = account.roles;
          else claims.roles = accountId ? ((await repos.users.findById(accountId))?.roles ?? []) : [];
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL.default,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL.default,
      AuthorizationCode: AUTHORIZATION_CODE_TTL,
      Interaction: settings.interactionTtl,
      // SESSION_TTL counts from the sign-in: oidc-provider saves the session again on every
      // authorization request with this ttl, so a constant would make it an idle timeout that an
      // active session never reaches (test/signin/lifetimes.test.ts)
      Session: (_ctx, session) => (session.loginTs ? Math.max(1, session.loginTs + settings.sessionTtl - now()) : settings.sessionTtl),
      Grant: (_ctx, grant) => refreshLifetimes(grant.clientId).absolute,
      IdToken: ACCESS_TOKEN_TTL.default,
      // idle lifetime, never beyond the absolute lifetime counted from the first sign-in (iiat)
      RefreshToken: (_ctx, token, client) => refreshTokenTtl(refreshLifetimes(client?.clientId), (token as unknown as { iiat?: number }).iiat, now()),
    },
    // re-read at every refresh: a disabled or deleted user gets no new tokens (invalid_grant), nor
    // does a refresh token from a sign-in without the second factor the user has now, or that the
    // tenant's policy now requires of them (it must sign in again, with the factor)
    findAccount: async (ctx, sub) => {
      const user = await repos.users.findById(sub);
      if (!user || user.disabled) return undefined;
      const refresh = (ctx.oidc?.entities as { RefreshToken?: { amr?: string[]; grantId?: string } } | undefined)?.RefreshToken;
      if (refresh && lacksSecondFactor(user, refresh.amr, settings.mfa)) {
        // the whole sign-in is done: its refresh tokens (a rotated one replayed too) and access tokens
        if (refresh.grantId) await tenant.revocations.revokeGrant(refresh.grantId);
        return undefined;
      }
      return toAccount(user);
    },
    // errors a browser sees (e.g. an unregistered redirect_uri) are a page, never a redirect
    renderError: pages.renderError,
  };

  const provider = new Provider(model.issuer, configuration);
  // behind our own router: trust the forwarded headers that src/server.ts sets from PUBLIC_URL
  provider.proxy = true;
  registerGrants(provider, tenant, shared);
  applyRateLimits(provider, { store: shared.store, clients, tenantId: model.id, tenantLimitPerHour: settings.rateLimitPerHour });
  provider.use(databaseGuard(() => shared.databaseUp()));
  // a path no route serves: the same JSON 404 as everywhere else on the server (not Koa's text)
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) throw new OAuthError(404, 'not_found', 'no such endpoint');
  });
  // introspection and revocation of JWT access tokens and refresh tokens (oidc-provider refuses JWTs)
  provider.use(
    tokenEndpoints({
      provider,
      model,
      repos,
      clients,
      revocations: tenant.revocations,
      verifyAccessToken: (token) => tenant.verifyAccessToken(token),
      onServerError: (err) => shared.onServerError(err),
      mfaPolicy: () => settings.mfa,
    }),
  );
  const passkeys = createPasskeyRp({
    publicUrl: model.issuer,
    tenantId: model.id,
    tenantName: model.name,
    store: shared.store,
    ttlSeconds: settings.interactionTtl,
  });
  // browser sign-in: login, second factors, consent and the pages' stylesheet and passkey module
  const pageDeps = {
    provider,
    model,
    repos,
    clients,
    signIn: signInDepsOf(tenant, shared),
    csrf: createCsrf(shared.cookieKeys[0]!, `${basePath}/interaction/`, settings.secureCookies),
    page,
    basePath,
    onServerError: (err: Error) => shared.onServerError(err),
    services: tenant.services,
    store: shared.store,
    passkeys,
    interactionTtl: settings.interactionTtl,
    showLogin,
  };
  provider.use(interactionRoutes(pageDeps));
  // the account page: password, second factors, recent sign-ins
  provider.use(
    accountRoutes({
      ...pageDeps,
      accountCsrf: createCsrf(shared.cookieKeys[0]!, `${basePath}/account`, settings.secureCookies),
      secureCookies: settings.secureCookies,
    }),
  );
  patchClientLookup(provider, clients);
  listenToProvider(provider, tenant, shared);
  return provider;
}
