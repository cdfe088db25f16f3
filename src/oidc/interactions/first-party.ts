/**
 * Sign-in of Tessera's own pages (the account page, the console) through the tenant's login,
 * like any first-party app: authorization code + PKCE with a built-in public client, the code
 * redeemed in process. The state and the PKCE verifier live in a short cookie scoped to the page;
 * a code is accepted only if it was issued to that client, for that verifier, in this browser's
 * state, and not before — then it is consumed.
 */
import type { Context } from 'koa';
import { errors, type Provider } from 'oidc-provider';
import { constantTimeEqual as sameSecret, digest, randomSecret } from '../../security/crypto.ts';

export interface FirstPartyOptions {
  provider: Provider;
  clientId: string;
  /** the issuer (for the redirect URI) and its path (for the authorization endpoint) */
  issuer: string;
  basePath: string;
  /** where the page lives, e.g. `/t/dept/account`; its callback is `${page}/callback` */
  page: string;
  cookie: string;
  cookieOptions: { httpOnly: boolean; sameSite: 'lax' | 'strict'; secure: boolean; path: string; signed: boolean; overwrite: boolean };
  /** seconds a sign-in may take */
  ttlSeconds: number;
}

export interface RedeemedCode {
  accountId: string;
  amr: readonly string[];
  /** the browser session the code came from (its uid) */
  sessionUid: string | undefined;
  /** the page asked for before the sign-in (a path under the page, nothing else) */
  returnTo: string | undefined;
}

export function firstPartySignIn(o: FirstPartyOptions) {
  const suffix = o.page.slice(o.basePath.length);
  /** a path under the page and nothing else: no other host, no other page, no odd characters */
  const safeReturn = (path: string) =>
    path.startsWith(`${o.page}/`) && path.length <= 300 && /^\/[\w\-./%]*$/.test(path) && !path.includes('//') && !path.includes('/../');
  return {
    /**
     * to the tenant's login; `again`: whatever the browser session says (a factor now needed);
     * `returnTo`: the page to come back to (a path under the page)
     */
    start(ctx: Context, again = false, returnTo?: string) {
      const state = randomSecret(16);
      const verifier = randomSecret(32);
      const back = returnTo && safeReturn(returnTo) ? `.${Buffer.from(returnTo).toString('base64url')}` : '';
      ctx.cookies.set(o.cookie, `${state}.${verifier}${back}`, { ...o.cookieOptions, maxAge: o.ttlSeconds * 1000 });
      const query = new URLSearchParams({
        client_id: o.clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: `${o.issuer}${suffix}/callback`,
        state,
        code_challenge: digest(verifier),
        code_challenge_method: 'S256',
        ...(again ? { prompt: 'login' } : {}),
      });
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(`${o.basePath}/auth?${query}`);
    },
    /** the callback's code, consumed; 'cancelled' when the user went back; null when anything is wrong */
    async redeem(ctx: Context): Promise<RedeemedCode | 'cancelled' | null> {
      const [state, verifier, back] = (ctx.cookies.get(o.cookie, { signed: o.cookieOptions.signed }) ?? '').split('.');
      ctx.cookies.set(o.cookie, null, o.cookieOptions);
      const q = ctx.query;
      if (typeof q.error === 'string') return 'cancelled';
      if (!state || !verifier || typeof q.state !== 'string' || !sameSecret(q.state, state) || typeof q.code !== 'string') return null;
      const code = await o.provider.AuthorizationCode.find(q.code);
      if (
        !code ||
        code.clientId !== o.clientId ||
        (code as unknown as { consumed?: number }).consumed ||
        !code.codeChallenge ||
        !sameSecret(code.codeChallenge, digest(verifier)) ||
        !code.accountId
      ) {
        return null;
      }
      // the adapter consumes atomically: of parallel redemptions of one code, one wins; the others
      // are refused like a spent code (they were an error page, then a 503, before the review)
      try {
        await code.consume();
      } catch (err) {
        if (err instanceof errors.InvalidGrant) return null;
        throw err;
      }
      const returnTo = back ? Buffer.from(back, 'base64url').toString('utf8') : undefined;
      return {
        accountId: code.accountId,
        amr: (code.amr as string[] | undefined) ?? [],
        sessionUid: code.sessionUid,
        returnTo: returnTo && safeReturn(returnTo) ? returnTo : undefined,
      };
    },
  };
}
