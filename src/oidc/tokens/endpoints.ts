/**
 * Introspection (RFC 7662) and revocation (RFC 7009) served by Tessera itself, because
 * oidc-provider refuses both for JWT access tokens. Mounted in front of the provider's router at
 * the paths discovery advertises; errors are oidc-provider's classes, rendered by its handler.
 */
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { TenantRepos } from '../../repositories/index.ts';
import type { MfaPolicy } from '../../contract.ts';
import { lacksSecondFactor } from '../sign-in.ts';
import type { TenantModel } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';
import { authenticateClient } from './client-auth.ts';
import { readForm } from './form.ts';
import { writeOAuthError } from '../../http/oauth-error.ts';
import { subjectsOf } from '../../services/revocation-list.ts';
import { inspectToken } from './inspect.ts';
import type { RevocationList } from '../../services/revocation-list.ts';

export const INTROSPECTION_PATH = '/token/introspection';
export const REVOCATION_PATH = '/token/revocation';

export interface TokenEndpointDeps {
  provider: Provider;
  model: TenantModel;
  repos: TenantRepos;
  clients: ClientDirectory;
  revocations: RevocationList;
  verifyAccessToken: (token: string) => Promise<import('jose').JWTPayload>;
  onServerError: (err: Error) => void;
  /** the tenant's MFA policy: a refresh token from a sign-in without the factor now needed is inactive */
  mfaPolicy: () => MfaPolicy;
}

const INACTIVE = { active: false } as const;

export function tokenEndpoints(deps: TokenEndpointDeps) {
  const { provider, model, repos, clients, revocations } = deps;

  async function introspect(ctx: Context) {
    const form = await readForm(ctx);
    await authenticateClient(ctx, form, clients);
    const token = form.get('token');
    if (!token) throw new errors.InvalidRequest('missing required parameter(s) (token)');
    const found = await inspectToken(token, provider, deps.verifyAccessToken);
    if (!found) return INACTIVE;
    if (found.kind === 'access_token') {
      const p = found.payload;
      const revoked = await revocations.isRevoked({ jti: p.jti, grantId: p.gid, subjects: subjectsOf(p.sub, p.client_id), iat: p.iat });
      if (revoked) return INACTIVE;
      return {
        active: true,
        sub: p.sub,
        client_id: p.client_id,
        scope: p.scope,
        aud: p.aud,
        iss: p.iss,
        exp: p.exp,
        iat: p.iat,
        jti: p.jti,
        token_type: 'Bearer',
        roles: p.roles ?? [],
        tenant_id: p.tenant_id,
        ...(p.amr ? { amr: p.amr } : {}),
        ...(p.auth_time !== undefined ? { auth_time: p.auth_time } : {}),
      };
    }
    // a refresh token (or an opaque access token) is active while its user is
    const [user, revoked] = await Promise.all([
      repos.users.findById(found.accountId),
      revocations.isRevoked({ grantId: found.grantId, subjects: subjectsOf(found.accountId, found.clientId), iat: found.iat }),
    ]);
    if (!user || user.disabled || revoked) return INACTIVE;
    // as at the token endpoint: it can no longer be used (provider.ts findAccount)
    if (found.kind === 'refresh_token' && lacksSecondFactor(user, found.amr, deps.mfaPolicy())) return INACTIVE;
    return {
      active: true,
      sub: found.accountId,
      client_id: found.clientId,
      scope: found.scope,
      aud: found.resource,
      iss: model.issuer,
      exp: found.exp,
      iat: found.iat,
      token_type: found.kind === 'refresh_token' ? 'refresh_token' : 'Bearer',
      roles: user.roles,
      tenant_id: model.slug,
      ...(found.amr ? { amr: found.amr } : {}),
      ...(found.authTime !== undefined ? { auth_time: found.authTime } : {}),
    };
  }

  async function revoke(ctx: Context) {
    const form = await readForm(ctx);
    const client = await authenticateClient(ctx, form, clients, { allowPublic: true });
    const token = form.get('token');
    if (!token) throw new errors.InvalidRequest('missing required parameter(s) (token)');
    const found = await inspectToken(token, provider, deps.verifyAccessToken);
    // RFC 7009 §2.2: invalid, unknown or someone else's tokens get the same empty 200
    if (!found) return;
    if (found.kind === 'access_token') {
      if (found.payload.client_id !== client.clientId || !found.payload.jti || !found.payload.exp) return;
      await revocations.revokeJti(found.payload.jti, new Date(found.payload.exp * 1000));
      provider.emit('tessera.revocation', ctx, 'access_token');
      return;
    }
    if (found.clientId !== client.clientId) return;
    if (found.kind === 'opaque_access_token') {
      // deleted: userinfo no longer finds it, introspection says inactive
      await found.destroy();
      provider.emit('tessera.revocation', ctx, 'access_token');
      return;
    }
    await revocations.revokeGrant(found.grantId);
    provider.emit('tessera.revocation', ctx, 'refresh_token');
  }

  // not async itself: the requests it does not serve (most of them) pass through without a promise of its own
  return function tokenEndpointsMiddleware(ctx: Context, next: Next): Promise<void> {
    const route =
      ctx.method === 'POST' && ctx.path === INTROSPECTION_PATH ? introspect : ctx.method === 'POST' && ctx.path === REVOCATION_PATH ? revoke : undefined;
    return route ? serve(ctx, route) : next();
  };

  async function serve(ctx: Context, route: typeof introspect | typeof revoke): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    try {
      const body = await route(ctx);
      ctx.status = 200;
      ctx.body = body ?? '';
      if (route === introspect) provider.emit('tessera.introspection', ctx, (body as { active: boolean }).active);
    } catch (err) {
      if (writeOAuthError(ctx, err)) deps.onServerError(err as Error);
      if (ctx.status === 401) ctx.set('WWW-Authenticate', `Basic realm="${model.issuer}"`);
    }
  }
}
