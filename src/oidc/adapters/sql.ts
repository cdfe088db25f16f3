/**
 * oidc-provider Adapter for every model except Client, in SQL through the artifact repository.
 * Stored ids are SHA-256 digests of the values (a refresh token's id *is* the token), and the
 * `jti` member, which repeats the value, is removed from the stored payload and restored on read.
 * `consume` is a conditional update: of N parallel consumers exactly one succeeds; the others get
 * invalid_grant, never a second token.
 */
import { errors } from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ArtifactRepository, ArtifactRow } from '../../repositories/artifacts.ts';
import type { InputJsonObject } from '../../generated/prisma/internal/prismaNamespace.ts';
import { digest } from '../../security/crypto.ts';
import { requestState } from '../request-context.ts';

/**
 * Refresh tokens rotate atomically and only when the request succeeds: within a request,
 * `consume` only notes the old token and the successor's `upsert` only notes the successor; the
 * refresh grant's wrapper (grants/refresh-token.ts) then consumes the old one and inserts the
 * successor in one statement. A refused refresh (an unknown resource, a scope no longer granted)
 * leaves the token as it was. A replay of a consumed token is caught by oidc-provider before
 * that (its grant is revoked: reuse detection).
 */
const ROTATES = new Set(['RefreshToken']);

/**
 * PostgreSQL refuses NUL in text and in jsonb strings: a request parameter carrying one is bad
 * input. Iterative (a deeply nested `claims` parameter cannot exhaust the stack).
 */
function holdsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

export function createSqlAdapter(
  model: string,
  repo: ArtifactRepository,
  /** revokes a whole grant: the tenant's revocation list (SQL, then its store mirror), never SQL alone */
  revokeGrant: (grantId: string) => Promise<void>,
  /**
   * REFRESH_TOKEN_REUSE_INTERVAL: a refresh token consumed less than this long ago is "not found"
   * (invalid_grant) rather than a replay that revokes its grant. Requests sent in parallel with
   * the one that rotated it arrive just after it; they must not kill the winner's successor.
   */
  reuseIntervalMs = 0,
): Adapter {
  const revive = (row: ArtifactRow | null, jti: string | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    const payload = { ...(row.payload as AdapterPayload) };
    if (jti !== undefined) payload.jti = jti;
    if (row.consumedAt) payload.consumed = Math.floor(row.consumedAt.getTime() / 1000);
    return payload;
  };
  return {
    async upsert(id, payload, expiresIn) {
      // the value is the row's id (digested); it is never stored, for any model
      const { jti: _value, ...stored } = payload;
      // an Interaction copies its browser session's value (`session.cookie`, the session cookie);
      // oidc-provider never reads it back (it finds the session by uid), so it is not stored either
      if (model === 'Interaction' && stored.session && typeof stored.session === 'object') {
        const { cookie: _cookie, ...session } = stored.session as Record<string, unknown>;
        stored.session = session;
      }
      if (holdsNul(stored)) throw new errors.InvalidRequest('request parameters must not contain NUL characters');
      const data = {
        payload: stored as InputJsonObject,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        grantId: payload.grantId ?? null,
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
      };
      const state = requestState();
      const pending = state?.pendingConsume;
      if (pending && pending.model === model) {
        state.pendingConsume = undefined;
        state.pendingRotation = { model, oldId: pending.id, id: digest(id), data };
        return;
      }
      await repo.upsert(model, digest(id), data);
    },
    async find(id) {
      const row = await repo.find(model, digest(id));
      if (row?.consumedAt && ROTATES.has(model) && Date.now() - row.consumedAt.getTime() < reuseIntervalMs) return undefined;
      return revive(row, id);
    },
    async findByUid(uid) {
      return revive(await repo.findByUid(model, uid), undefined);
    },
    async findByUserCode(userCode) {
      return revive(await repo.findByUserCode(model, userCode), undefined);
    },
    async consume(id) {
      const state = requestState();
      if (state && ROTATES.has(model)) {
        state.pendingConsume = { model, id: digest(id) };
        return;
      }
      if (!(await repo.consume(model, digest(id)))) {
        throw new errors.InvalidGrant(`${model} was already used`);
      }
    },
    async destroy(id) {
      await repo.destroy(model, digest(id));
    },
    async revokeByGrantId(grantId) {
      await revokeGrant(grantId);
    },
  };
}
