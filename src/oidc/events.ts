/**
 * What Tessera does when oidc-provider reports an event. Its error handler has written the body
 * by the time these (synchronous) listeners run; where Tessera's answer differs, the one OAuth
 * writer (http/oauth-error.ts) writes it again: oidc-provider offers no other hook for JSON errors.
 */
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { writeOAuthError } from '../http/oauth-error.ts';
import type { OidcShared, OidcTenant } from './tenant.ts';

const NOT_ALLOWED = 'requested grant type is not allowed for this client';

export function listenToProvider(provider: Provider, tenant: OidcTenant, shared: OidcShared): void {
  const audit = (ctx: KoaContextWithOIDC, type: string, data: Record<string, string>) =>
    tenant.repos.audit
      .record({ type, actor: ctx.oidc.client ? `client:${ctx.oidc.client.clientId}` : 'anonymous', data })
      .catch((err: Error) => shared.onServerError(err));

  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { retryAfter?: number; error_description?: string }) => {
    // RFC 6749 §5.2: a grant the client may not use is unauthorized_client (oidc-provider says invalid_request)
    if (err instanceof errors.InvalidRequest && err.error_description === NOT_ALLOWED) writeOAuthError(ctx, new errors.UnauthorizedClient(NOT_ALLOWED));
    // Tessera's own refusals carry when to come back (oidc/errors.ts)
    else if (err.retryAfter) writeOAuthError(ctx, err);
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token') void audit(ctx, 'refresh.reuse_detected', { grant_id: grantId });
  });
  // an unexpected failure (database down, bug) is a 503 for the caller, with no details; input
  // the database refused (a NUL byte that slipped past the checks) is the caller's 400
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    if (writeOAuthError(ctx, err)) shared.onServerError(err);
  });
}
