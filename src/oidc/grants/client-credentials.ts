/**
 * client_credentials (RFC 6749 §4.4) with Tessera's audience and scope rules. Adapted from
 * oidc-provider 9.13 lib/actions/grants/client_credentials.js; deviations: exactly one resource
 * is required (the request's or the client's default, else invalid_target), the scope follows
 * CONTRACT §4 (decided from the client's roles), and DPoP/mTLS/RAR are not offered.
 */
import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { resolveRequestedResources } from '../internals.ts';
import { decideScope } from '../scope.ts';
import type { TenantModel } from '../model.ts';
import { grantedScopes } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';

export const grantType = 'client_credentials';
export const parameters = ['scope', 'resource'];

export interface Deps {
  provider: Provider;
  model: TenantModel;
  clients: ClientDirectory;
}

export function buildHandler({ provider, model, clients }: Deps) {
  return async function clientCredentialsHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const [resourceServer, ...more] = await resolveRequestedResources(provider, ctx);
    if (!resourceServer) throw new errors.InvalidTarget('no resource requested and the client has no default resource');
    if (more.length) throw new errors.InvalidTarget('only a single resource indicator value is supported');
    const resource = model.resources.get(resourceServer.audience as string)!;
    const record = await clients.get(client.clientId);
    const roles = record?.roles ?? [];
    const scope = decideScope(ctx.oidc.params!.scope as string | undefined, grantedScopes(model, roles, resource), resource.scopes);

    const token = new provider.ClientCredentials({ client, scope: scope.join(' ') || undefined });
    token.resourceServer = resourceServer;
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();

    ctx.body = {
      access_token: value,
      expires_in: token.expiration,
      token_type: 'Bearer',
      ...(token.scope ? { scope: token.scope } : {}),
    };
  };
}
