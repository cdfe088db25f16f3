/**
 * The resource-owner password grant (RFC 6749 §4.3), which oidc-provider does not ship. Staff of
 * a tenant sign in with username and password through a client created with the `password` grant
 * (confidential, or the public `admin-cli`). The audience and scope rules are CONTRACT §4's; the
 * result is a Grant, a JWT access token and, when the client may refresh, a refresh token that
 * oidc-provider's own refresh_token grant rotates.
 *
 * Credentials are checked by signIn (../sign-in.ts), shared with the browser login page: unknown
 * user, wrong password and disabled user get the same `invalid_grant` body, and the unknown-user
 * path still runs one argon2 verification, so neither the answer nor its timing tells which
 * usernames exist. A user with a second factor sends a TOTP or recovery code as `otp` (issue 16):
 * missing or wrong is the same `invalid_grant`, counted by the same guard.
 */
import { randomBytes } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { grantedScopes, type TenantModel } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';
import { resolveRequestedResources } from '../internals.ts';
import { decideScope } from '../scope.ts';
import { toAccount } from '../account.ts';
import { signIn, type SignInDeps } from '../sign-in.ts';
import { noteAuthentication } from '../authentication.ts';

export const grantType = 'password';
export const parameters = ['username', 'password', 'otp', 'scope', 'resource'];

export interface Deps {
  provider: Provider;
  model: TenantModel;
  clients: ClientDirectory;
  signIn: SignInDeps;
}

export function buildHandler({ provider, model, clients, signIn: signInDeps }: Deps) {
  return async function passwordHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const username = params.username;
    const password = params.password;
    if (!username) throw new errors.InvalidRequest('missing required parameter(s) (username)');
    if (!password) throw new errors.InvalidRequest('missing required parameter(s) (password)');
    const address = ctx.ip;

    // audience and scope errors come first: they do not depend on the credentials
    const [resourceServer, ...more] = await resolveRequestedResources(provider, ctx);
    if (!resourceServer) throw new errors.InvalidTarget('no resource requested and the client has no default resource');
    if (more.length) throw new errors.InvalidTarget('only a single resource indicator value is supported');
    const resource = model.resources.get(resourceServer.audience as string)!;

    const { user, amr } = await signIn(signInDeps, { username, password, address, clientId: client.clientId, channel: 'grant', otp: params.otp });
    const authTime = Math.floor(Date.now() / 1000);
    noteAuthentication(ctx, { amr, authTime });

    const scope = decideScope(params.scope, grantedScopes(model, user.roles, resource), resource.scopes).join(' ');
    const account = toAccount(user);
    ctx.oidc.entity('Account', account);

    const record = await clients.get(client.clientId);
    const refreshable = record?.grantTypes.includes('refresh_token') === true;
    // the grant is persisted only when a refresh token will point at it; otherwise its id still
    // names the sign-in in the access token, and nothing needs to find it later
    const grant = new provider.Grant({ accountId: user.id, clientId: client.clientId });
    grant.addResourceScope(resource.audience, scope);
    const grantId = refreshable ? await grant.save() : randomBytes(16).toString('base64url');
    ctx.oidc.entity('Grant', grant);

    const at = new provider.AccessToken({ accountId: user.id, client, grantId, gty: grantType, scope: scope || undefined });
    at.resourceServer = resourceServer;
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    let refreshToken: string | undefined;
    if (refreshable) {
      const rt = new provider.RefreshToken({
        accountId: user.id,
        client,
        grantId,
        gty: grantType,
        scope,
        resource: resource.audience,
        rotations: 0,
        iiat: Math.floor(Date.now() / 1000),
        amr,
        authTime,
      });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      token_type: 'Bearer',
      ...(scope ? { scope } : {}),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  };
}
