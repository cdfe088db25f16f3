/**
 * What a presented token is, for introspection and revocation: a JWT access token of this tenant
 * (signature with this tenant's keys only, typ at+jwt, not expired), one of its refresh tokens, or
 * one of its opaque access tokens (issued for userinfo only, without an API audience). Anything
 * else is `undefined`: the callers answer `{active:false}` / 200 without telling why.
 */
import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';

export type Inspected =
  | {
      kind: 'access_token';
      payload: JWTPayload & { client_id?: string; scope?: string; roles?: string[]; tenant_id?: string; gid?: string; amr?: string[]; auth_time?: number };
    }
  | {
      kind: 'refresh_token' | 'opaque_access_token';
      clientId: string;
      accountId: string;
      grantId: string;
      scope?: string;
      resource?: string;
      iat?: number;
      exp?: number;
      /** how the user signed in (RFC 8176), when known */
      amr?: string[];
      authTime?: number;
      /** removes it (an opaque access token is revoked by deleting it) */
      destroy(): Promise<void>;
    };

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
/** what oidc-provider's own tokens look like (nanoid: 43 URL-safe characters by default) */
const OPAQUE_SHAPE = /^[\w-]{16,256}$/;

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
  if (!OPAQUE_SHAPE.test(token)) return undefined;
  const [rt, at] = await Promise.all([provider.RefreshToken.find(token), provider.AccessToken.find(token)]);
  const found = rt ?? at;
  if (!found || found.isExpired || !found.grantId || !found.accountId || !found.clientId) return undefined;
  if (rt?.consumed) return undefined;
  const r = found as unknown as { resource?: string; iat?: number; exp?: number; amr?: string[]; authTime?: number };
  return {
    kind: rt ? 'refresh_token' : 'opaque_access_token',
    clientId: found.clientId,
    accountId: found.accountId,
    grantId: found.grantId,
    ...(found.scope ? { scope: found.scope } : {}),
    ...(typeof r.resource === 'string' ? { resource: r.resource } : {}),
    ...(r.iat !== undefined ? { iat: r.iat } : {}),
    ...(r.exp !== undefined ? { exp: r.exp } : {}),
    ...(Array.isArray(r.amr) ? { amr: r.amr } : {}),
    ...(typeof r.authTime === 'number' ? { authTime: r.authTime } : {}),
    destroy: () => found.destroy(),
  };
}
