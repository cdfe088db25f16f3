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
import { RefreshTokenReuse } from '../errors.ts';
import { requestState } from '../request-context.ts';
import { revokedGrantUntil } from '../tokens/revocation-list.ts';

/**
 * Refresh tokens rotate atomically: within a request, `consume` only notes the old token, and the
 * successor's `upsert` consumes it and inserts the successor in one statement. The
 * loser of a race (or a replay) finds it consumed: the whole grant is revoked (reuse detection)
 * and the request fails with invalid_grant.
 */
const ROTATES = new Set(['RefreshToken']);

/**
 * Sessions are also found by uid (not by their value), and oidc-provider needs their jti back
 * then, so a Session keeps its jti in the payload; its row id is still a digest.
 */
const KEEPS_JTI = new Set(['Session']);

export function createSqlAdapter(
  model: string,
  repo: ArtifactRepository,
  /** revokes a whole grant (the tenant's revocation list: SQL, then its store mirror) */
  revokeGrant: (grantId: string) => Promise<void> = (grantId) => repo.revokeByGrantId(grantId, revokedGrantUntil()),
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
      const { jti: _value, ...rest } = payload;
      const stored = KEEPS_JTI.has(model) ? payload : rest;
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
        if (!(await repo.rotate(model, pending.id, digest(id), data))) {
          if (payload.grantId) await revokeGrant(payload.grantId);
          throw new RefreshTokenReuse(payload.grantId);
        }
        return;
      }
      await repo.upsert(model, digest(id), data);
    },
    async find(id) {
      return revive(await repo.find(model, digest(id)), id);
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
