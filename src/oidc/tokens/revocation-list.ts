/**
 * Is an access token revoked? Revocations are durable in SQL and mirrored in the store (Redis)
 * for fast checks. The mirror is trusted only while its `ready` marker exists: the marker is set
 * after the mirror was rebuilt from SQL, so a Redis flush (marker gone) means "rebuild first",
 * never "nothing is revoked". Without the store, checks fall back to SQL: fail closed.
 */
import type { ArtifactRepository } from '../../repositories/artifacts.ts';
import type { RevocationRepository } from '../../repositories/revocations.ts';
import type { Store } from '../../store/index.ts';

const MIRROR_READY_MS = 24 * 3600_000;
/** a revoked grant is remembered longer than any of its access tokens can live (max TTL 86400 s) */
const GRANT_MEMORY_MS = 86_400_000 + 60_000;
export const revokedGrantUntil = () => new Date(Date.now() + GRANT_MEMORY_MS);

export function createRevocationList(store: Store, repo: RevocationRepository, artifacts: ArtifactRepository, tenantId: string) {
  const jtiKey = (jti: string) => `rv:j:${tenantId}:${jti}`;
  const grantKey = (gid: string) => `rv:g:${tenantId}:${gid}`;
  const readyKey = `rv:ready:${tenantId}`;
  const ttl = (expiresAt: Date) => Math.max(1000, expiresAt.getTime() - Date.now());
  let rebuilding: Promise<void> | undefined;

  const rebuild = () =>
    (rebuilding ??= (async () => {
      try {
        const { jtis, grants } = await repo.listLive();
        await Promise.all([
          ...jtis.map((r) => store.set(jtiKey(r.jti), '1', ttl(r.expiresAt))),
          ...grants.map((r) => store.set(grantKey(r.grantId), '1', ttl(r.expiresAt))),
        ]);
        await store.set(readyKey, '1', MIRROR_READY_MS);
      } finally {
        rebuilding = undefined;
      }
    })());

  const lookup = (jti: string | undefined, gid: string | undefined) =>
    Promise.all([store.get(readyKey), jti ? store.get(jtiKey(jti)) : null, gid ? store.get(grantKey(gid)) : null]);
  // one round of parallel reads on the hot path; a second only right after a rebuild
  const mirrored = async (jti: string | undefined, gid: string | undefined): Promise<boolean> => {
    let [ready, a, b] = await lookup(jti, gid);
    if (!ready) {
      await rebuild();
      [ready, a, b] = await lookup(jti, gid);
    }
    return a !== null || b !== null;
  };

  return {
    async isRevoked(jti: string | undefined, grantId: string | undefined): Promise<boolean> {
      try {
        return await mirrored(jti, grantId);
      } catch {
        return repo.isRevoked(jti, grantId);
      }
    },
    /** durable first, then mirrored (a store failure loses nothing: checks fall back to SQL) */
    async revokeJti(jti: string, expiresAt: Date): Promise<void> {
      await repo.revokeJti(jti, expiresAt);
      await store.set(jtiKey(jti), '1', ttl(expiresAt)).catch(() => {});
    },
    /** a whole grant: its artifacts deleted and the grant remembered as revoked (SQL), then mirrored */
    async revokeGrant(grantId: string): Promise<void> {
      const until = revokedGrantUntil();
      await artifacts.revokeByGrantId(grantId, until);
      await store.set(grantKey(grantId), '1', ttl(until)).catch(() => {});
    },
  };
}
export type RevocationList = ReturnType<typeof createRevocationList>;
