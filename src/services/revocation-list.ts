/**
 * Is a token revoked? Revocations are durable in SQL and mirrored in the store (Redis) so that
 * the check on every introspection and admin call is one round of parallel reads.
 *
 * The mirror is trusted only when it is complete, which the mirror itself records per tenant:
 *  - `ready` holds the generation the mirror was last rebuilt at (from SQL), `gen` the current
 *    generation. They are equal only while every revocation since the rebuild reached the mirror.
 *  - A revocation is written to SQL first, then to the mirror. When a mirror write fails (Redis
 *    out of memory, unreachable, …) the writer deletes `ready` (Redis accepts a DEL even when out
 *    of memory) and bumps `gen`: every instance sees the mirror incomplete at its next check and
 *    rebuilds it from SQL, or asks SQL while it cannot. If the bump fails, this instance asks SQL
 *    itself and retries the bump every second until Redis takes it.
 *  - A rebuild records the generation it started at, so an invalidation that lands while it runs
 *    leaves the mirror untrusted (a new rebuild follows) instead of being overwritten.
 *  - A Redis flush loses `ready`: rebuild first, never "nothing is revoked". `ready` also expires
 *    after an hour: the bound for the one case nothing else catches (a writer that could not reach
 *    Redis and died before its retry succeeded).
 * Without the store (or while a read fails), checks go to SQL: fail closed.
 */
import { ACCESS_TOKEN_TTL } from '../contract.ts';
import type { ArtifactRepository } from '../repositories/artifacts.ts';
import type { LiveRevocations, RevocationQuery, RevocationRepository } from '../repositories/revocations.ts';
import type { Store } from '../store/index.ts';

const READY_TTL_MS = 3600_000;
const GEN_TTL_MS = 30 * 86_400_000;
const RETRY_MS = 1000;
/** longer than any access token lives, plus clock skew */
export const REVOCATION_MEMORY_MS = (ACCESS_TOKEN_TTL.max + 60) * 1000;
export const revokedGrantUntil = () => new Date(Date.now() + REVOCATION_MEMORY_MS);

/** the subject keys a token is checked against */
export const userSubject = (userId: string) => `u:${userId}`;
export const clientSubject = (clientId: string) => `c:${clientId}`;
/** the subject keys a token of `sub` issued to `clientId` is checked against */
export function subjectsOf(sub: string | undefined, clientId: string | undefined): string[] {
  const out: string[] = [];
  if (clientId) out.push(clientSubject(clientId));
  if (sub && sub !== clientId) out.push(userSubject(sub));
  return out;
}

export type MirrorEntry =
  | { kind: 'jti'; jti: string; expiresAt: Date }
  | { kind: 'grant'; grantId: string; expiresAt: Date }
  | { kind: 'subject'; subject: string; notBefore: number; expiresAt: Date };

/**
 * The process-wide mirror of every tenant's revocations in the store. `record` never throws: a
 * failed write invalidates the tenant's mirror (see above).
 */
export function createRevocationMirror(store: Store, opts: { onError?: (err: unknown) => void } = {}) {
  const key = {
    jti: (t: string, jti: string) => `rv:j:${t}:${jti}`,
    grant: (t: string, gid: string) => `rv:g:${t}:${gid}`,
    subject: (t: string, s: string) => `rv:s:${t}:${s}`,
    ready: (t: string) => `rv:ready:${t}`,
    gen: (t: string) => `rv:gen:${t}`,
  };
  const ttl = (expiresAt: Date) => Math.max(1000, expiresAt.getTime() - Date.now());
  /** tenants whose mirror may lack a revocation written here, until their `gen` bump lands */
  const dirty = new Set<string>();
  let retry: NodeJS.Timeout | undefined;

  const write = (tenantId: string, e: MirrorEntry) =>
    e.kind === 'jti'
      ? store.set(key.jti(tenantId, e.jti), '1', ttl(e.expiresAt))
      : e.kind === 'grant'
        ? store.set(key.grant(tenantId, e.grantId), '1', ttl(e.expiresAt))
        : // raised, never set: a rebuild that read SQL before a newer cut-off must not undo it
          store.raise(key.subject(tenantId, e.subject), e.notBefore, ttl(e.expiresAt));

  /**
   * The mirror of `tenantId` may lack a revocation: drop its `ready` marker (a DEL, which Redis
   * accepts even when it is out of memory and refuses every write) so that no instance trusts it,
   * and bump `gen` so that a rebuild already under way cannot mark it complete again. Until the
   * bump lands, this instance asks SQL and retries every second.
   */
  async function invalidate(tenantId: string): Promise<void> {
    dirty.add(tenantId);
    const [, bumped] = await Promise.allSettled([store.delete(key.ready(tenantId)), store.increment(key.gen(tenantId), GEN_TTL_MS)]);
    if (bumped.status === 'fulfilled') {
      dirty.delete(tenantId);
      return;
    }
    opts.onError?.(bumped.reason);
    retry ??= setInterval(() => {
      for (const t of dirty) void invalidate(t);
      if (!dirty.size) {
        clearInterval(retry);
        retry = undefined;
      }
    }, RETRY_MS);
    retry.unref();
  }

  return {
    /** mirrors revocations already durable in SQL; on any failure the tenant's mirror is invalidated */
    async record(tenantId: string, entries: readonly MirrorEntry[]): Promise<void> {
      try {
        await Promise.all(entries.map((e) => write(tenantId, e)));
      } catch (err) {
        opts.onError?.(err);
        await invalidate(tenantId);
      }
    },
    /** forget that the mirror is complete: every instance rebuilds it from SQL before using it */
    invalidate,

    /**
     * true/false from the mirror, or undefined when it cannot be trusted now (the caller asks
     * SQL). Rebuilds it first when it is incomplete.
     */
    async check(tenantId: string, q: RevocationQuery, rebuild: () => Promise<void>): Promise<boolean | undefined> {
      if (dirty.has(tenantId)) return undefined;
      const subjects = q.subjects ?? [];
      const read = () =>
        Promise.all([
          store.get(key.ready(tenantId)),
          store.get(key.gen(tenantId)),
          q.jti ? store.get(key.jti(tenantId, q.jti)) : null,
          q.grantId ? store.get(key.grant(tenantId, q.grantId)) : null,
          ...subjects.map((s) => store.get(key.subject(tenantId, s))),
        ]);
      let values = await read();
      if (values[0] === null || values[0] !== (values[1] ?? '0')) {
        await rebuild();
        values = await read();
        if (values[0] === null || values[0] !== (values[1] ?? '0')) return undefined;
      }
      const [, , jti, grant, ...subjectValues] = values;
      if (jti !== null || grant !== null) return true;
      return subjectValues.some((v) => v !== null && (q.iat === undefined || q.iat <= Number(v)));
    },

    /** writes every live revocation of the tenant, then marks the mirror complete as of `gen` */
    async rebuild(tenantId: string, live: () => Promise<LiveRevocations>): Promise<void> {
      const gen = (await store.get(key.gen(tenantId))) ?? '0';
      const { jtis, grants, subjects } = await live();
      await Promise.all([
        ...jtis.map((r) => write(tenantId, { kind: 'jti', ...r })),
        ...grants.map((r) => write(tenantId, { kind: 'grant', ...r })),
        ...subjects.map((r) => write(tenantId, { kind: 'subject', ...r })),
      ]);
      await store.set(key.ready(tenantId), gen, READY_TTL_MS);
    },
    close() {
      clearInterval(retry);
    },
  };
}
export type RevocationMirror = ReturnType<typeof createRevocationMirror>;

/** one tenant's revocations: SQL, then the mirror */
export function createRevocationList(mirror: RevocationMirror, repo: RevocationRepository, artifacts: ArtifactRepository, tenantId: string) {
  let rebuilding: Promise<void> | undefined;
  const rebuild = () =>
    (rebuilding ??= mirror
      .rebuild(tenantId, () => repo.listLive())
      .finally(() => {
        rebuilding = undefined;
      }));

  return {
    /** whether a token with these members has been revoked (by jti, grant, or its subjects' cut-off) */
    async isRevoked(q: RevocationQuery): Promise<boolean> {
      try {
        const answer = await mirror.check(tenantId, q, rebuild);
        if (answer !== undefined) return answer;
      } catch {
        // the store is unreachable: SQL answers
      }
      return repo.isRevoked(q);
    },
    async revokeJti(jti: string, expiresAt: Date): Promise<void> {
      await repo.revokeJti(jti, expiresAt);
      await mirror.record(tenantId, [{ kind: 'jti', jti, expiresAt }]);
    },
    /** a whole grant: its artifacts deleted and the grant remembered as revoked (SQL), then mirrored */
    async revokeGrant(grantId: string): Promise<void> {
      const until = revokedGrantUntil();
      await artifacts.revokeByGrantId(grantId, until);
      await mirror.record(tenantId, [{ kind: 'grant', grantId, expiresAt: until }]);
    },
  };
}
export type RevocationList = ReturnType<typeof createRevocationList>;
