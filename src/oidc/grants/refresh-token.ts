/**
 * refresh_token: oidc-provider's own grant (rotation, reuse detection, the account re-read),
 * wrapped so that the rotation commits only when the response is ready.
 *
 * oidc-provider rotates (consumes the old token, saves the successor) before it resolves the
 * resource and the scope; a refresh refused after that point (`invalid_target`, `invalid_scope`)
 * burned the token, and presenting it again then looked like reuse: the grant was revoked and a
 * false `refresh.reuse_detected` audited. Here the SQL adapter only notes the rotation
 * (request-context.ts) and this wrapper runs it, one conditional statement, after the handler
 * succeeded. A refused refresh leaves the token usable.
 *
 * Parallel use of one token: exactly one conditional statement consumes it and stores *its*
 * successor, which works. The others answer `invalid_grant` without revoking the grant: those that
 * read the token before the winner consumed it lose the statement; those that arrive just after
 * find it consumed less than REFRESH_TOKEN_REUSE_INTERVAL ago, which the SQL adapter reports as
 * not found. A token presented later than that is a replay: oidc-provider revokes the whole grant
 * (reuse detection).
 */
import { errors, type Provider } from 'oidc-provider';
import type { ArtifactRepository } from '../../repositories/artifacts.ts';
import { grantTypeHandlers } from '../internals.ts';
import { requestState } from '../request-context.ts';

export const grantType = 'refresh_token';

export function commitRotationOnSuccess(provider: Provider, artifacts: ArtifactRepository): void {
  const handlers = grantTypeHandlers(provider);
  const refresh = handlers.get(grantType);
  if (!refresh) throw new Error('oidc-provider has no refresh_token grant to wrap');
  handlers.set(grantType, async (ctx) => {
    const state = requestState();
    const take = () => {
      const rotation = state?.pendingRotation;
      if (state) state.pendingRotation = undefined;
      return rotation;
    };
    try {
      await refresh(ctx);
    } catch (err) {
      take(); // refused: the noted rotation is dropped, the old token stays as it was
      throw err;
    }
    const rotation = take();
    if (rotation && !(await artifacts.rotate(rotation.model, rotation.oldId, rotation.id, rotation.data))) {
      throw new errors.InvalidGrant('refresh token already used');
    }
  });
}
