/**
 * Per-request state shared between a grant and the adapters beneath it. Used to make
 * refresh-token rotation one statement that runs only once the response is ready: `consume(old)`
 * only records the old token here, the `upsert(successor)` that follows records the successor,
 * and the refresh grant's wrapper (grants/refresh-token.ts) consumes the old token and stores
 * the successor atomically after everything else succeeded.
 *
 * It hangs off oidc-provider's own request context (`Provider.ctx`, the AsyncLocalStorage that
 * oidc-provider runs every one of its routes in) instead of a second AsyncLocalStorage of ours:
 * each enabled AsyncLocalStorage adds work to every promise the process creates. Outside a
 * provider route there is no state, and the adapter consumes at once.
 */
import Provider from 'oidc-provider';

import type { ArtifactWrite } from '../repositories/artifacts.ts';

export interface RequestState {
  /** digest of a refresh token whose consumption waits for its successor's upsert */
  pendingConsume?: { model: string; id: string };
  /** a rotation waiting for the response to succeed: consume `oldId`, store `id` */
  pendingRotation?: { model: string; oldId: string; id: string; data: ArtifactWrite };
}

const states = new WeakMap<object, RequestState>();

export function requestState(): RequestState | undefined {
  const ctx = Provider.ctx as object | undefined;
  if (!ctx) return undefined;
  let state = states.get(ctx);
  if (!state) {
    state = {};
    states.set(ctx, state);
  }
  return state;
}
