/**
 * How the subject of a token signed in (issue 16): RFC 8176 `amr` and the sign-in time
 * (`auth_time`), which user tokens carry. oidc-provider keeps them on the authorization code and
 * the refresh token (from the browser session's login); the password grant, which builds its
 * tokens itself, notes them for its request here.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

export interface Authentication {
  amr: string[];
  /** epoch seconds */
  authTime: number;
}

const noted = new WeakMap<object, Authentication>();

/** the password grant: the sign-in of this request */
export const noteAuthentication = (ctx: KoaContextWithOIDC, a: Authentication) => noted.set(ctx, a);

interface Source {
  amr?: string[];
  authTime?: number;
}

/** the sign-in behind the token this request issues, when there is one */
export function authenticationOf(ctx: KoaContextWithOIDC): Authentication | undefined {
  const own = noted.get(ctx);
  if (own) return own;
  const e = ctx.oidc.entities as { AuthorizationCode?: Source; RefreshToken?: Source };
  const source = e.AuthorizationCode ?? e.RefreshToken;
  return source?.amr && typeof source.authTime === 'number' ? { amr: source.amr, authTime: source.authTime } : undefined;
}
