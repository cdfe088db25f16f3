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
 * Parallel use of one token: every request reads it unconsumed; exactly one conditional statement
 * consumes it and stores *its* successor, which works; the others answer `invalid_grant` without
 * revoking the grant (they lost a race on a token nobody had replayed). A token presented *after*
 * it was rotated is a replay: oidc-provider revokes the whole grant (reuse detection).
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
