/**
 * authorization_code: oidc-provider's own grant, wrapped so that a wrong `code_verifier` burns
 * the code. oidc-provider checks PKCE before it consumes the code, so a code could be tried with
 * one verifier after another; here a PKCE failure consumes it (a later redemption, even with the
 * right verifier, is refused and revokes what was issued from it, as for any replayed code).
 * The built-in clients of Tessera's own pages (the account page, the console) redeem their codes
 * in process: at the token endpoint they are refused (found in review: a user could otherwise turn
 * a code of theirs into an admin API token issued to the console's client).
 */
import { createHash } from 'node:crypto';
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { VIRTUAL_CLIENTS } from '../../contract.ts';
import { grantTypeHandlers } from '../internals.ts';

export const grantType = 'authorization_code';

const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

export function burnCodeOnWrongVerifier(provider: Provider): void {
  const handlers = grantTypeHandlers(provider);
  const exchange = handlers.get(grantType);
  if (!exchange) throw new Error('oidc-provider has no authorization_code grant to wrap');

  /** the code, when it belongs to this client, is unused and was presented with the wrong verifier */
  async function wronglyVerified(ctx: KoaContextWithOIDC) {
    const value = ctx.oidc.params?.code;
    if (typeof value !== 'string' || !value) return undefined;
    const code = await provider.AuthorizationCode.find(value, { ignoreExpiration: true });
    if (!code || (code as { consumed?: unknown }).consumed || code.clientId !== ctx.oidc.client?.clientId || !code.codeChallenge) return undefined;
    const verifier = ctx.oidc.params?.code_verifier;
    return typeof verifier === 'string' && s256(verifier) === code.codeChallenge ? undefined : code;
  }

  handlers.set(grantType, async (ctx) => {
    if (VIRTUAL_CLIENTS.includes(ctx.oidc.client?.clientId ?? '')) {
      throw new errors.UnauthorizedClient('this client redeems its codes in process only');
    }
    try {
      await exchange(ctx);
    } catch (err) {
      if (err instanceof errors.InvalidGrant || err instanceof errors.InvalidRequest) {
        const code = await wronglyVerified(ctx).catch(() => undefined);
        if (code) await code.consume().catch(() => {});
      }
      throw err;
    }
  });
}
