/**
 * What a presented token is, for introspection and revocation: a JWT access token of this tenant
 * (signature with this tenant's keys only, typ at+jwt, not expired), or one of its refresh tokens.
 * Anything else is `undefined`: the callers answer `{active:false}` / 200 without telling why.
 */
import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';

export type Inspected =
  | { kind: 'access_token'; payload: JWTPayload & { client_id?: string; scope?: string; roles?: string[]; tenant_id?: string; gid?: string } }
  | { kind: 'refresh_token'; clientId: string; accountId: string; grantId: string; scope?: string; resource?: string; iat?: number; exp?: number };

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export async function inspectToken(
  token: string,
  provider: Provider,
  verifyAccessToken: (token: string) => Promise<JWTPayload>,
): Promise<Inspected | undefined> {
  if (!token || token.length > 8192) return undefined;
  if (JWT_SHAPE.test(token)) {
    try {
      return { kind: 'access_token', payload: (await verifyAccessToken(token)) as Extract<Inspected, { kind: 'access_token' }>['payload'] };
    } catch {
      return undefined;
    }
  }
  const rt = await provider.RefreshToken.find(token);
  if (!rt || rt.isExpired || rt.consumed || !rt.grantId || !rt.accountId || !rt.clientId) return undefined;
  const r = rt as unknown as { resource?: string; iat?: number; exp?: number };
  return {
    kind: 'refresh_token',
    clientId: rt.clientId,
    accountId: rt.accountId,
    grantId: rt.grantId,
    ...(rt.scope ? { scope: rt.scope } : {}),
    ...(typeof r.resource === 'string' ? { resource: r.resource } : {}),
    ...(r.iat !== undefined ? { iat: r.iat } : {}),
    ...(r.exp !== undefined ? { exp: r.exp } : {}),
  };
}
