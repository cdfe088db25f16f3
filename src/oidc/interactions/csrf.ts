/**
 * CSRF protection for the interaction forms, on top of oidc-provider's interaction uid: a random
 * nonce lives in an HttpOnly, SameSite=Lax cookie scoped to the tenant's interaction path, and
 * every form carries HMAC(key, uid + nonce). A post is accepted only when the token matches the
 * cookie and the interaction it was rendered for (double submit, signed and bound to the uid).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../security/crypto.ts';
import type { Context } from 'koa';

const COOKIE = 'tessera.csrf';

export interface Csrf {
  /** the token for a form of interaction `uid` (sets the nonce cookie when missing) */
  issue(ctx: Context, uid: string): string;
  verify(ctx: Context, uid: string, token: string | null): boolean;
}

export function createCsrf(key: string, cookiePath: string, secure: boolean): Csrf {
  const mac = (uid: string, nonce: string) => createHmac('sha256', key).update(`csrf\0${uid}\0${nonce}`).digest('base64url');
  const options = { httpOnly: true, sameSite: 'lax' as const, secure, path: cookiePath, signed: false, overwrite: true };
  return {
    issue(ctx, uid) {
      let nonce = ctx.cookies.get(COOKIE, { signed: false });
      if (!nonce || !/^[\w-]{22,64}$/.test(nonce)) {
        nonce = randomBytes(24).toString('base64url');
        ctx.cookies.set(COOKIE, nonce, options);
      }
      return mac(uid, nonce);
    },
    verify(ctx, uid, token) {
      const nonce = ctx.cookies.get(COOKIE, { signed: false });
      if (!nonce || !token) return false;
      return constantTimeEqual(token, mac(uid, nonce));
    },
  };
}
