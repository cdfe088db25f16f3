/**
 * Integrity checks of the load test (bench/loadtest.ts) that read the database, kept apart so a
 * test can run them against a state it built (test/bench/loadtest-check.test.ts).
 */
import type pg from 'pg';

export interface GrantWithSeveralLiveRefreshTokens {
  grantId: string;
  live: number;
}

/**
 * Grants that hold more than one live refresh token: the double spend that atomic rotation must
 * make impossible (two parallel refreshes of one token both winning leave two). A refresh token
 * is live while it can still be exchanged: not consumed (rotated), not expired, and its grant not
 * revoked (a revoked grant's artifacts are deleted, and the grant is remembered in
 * revoked_grants). `tenantId` limits the check to one tenant.
 */
export async function grantsWithSeveralLiveRefreshTokens(db: Pick<pg.ClientBase, 'query'>, tenantId?: string): Promise<GrantWithSeveralLiveRefreshTokens[]> {
  const { rows } = await db.query<{ grant_id: string; live: string }>(
    `SELECT a.grant_id, count(*) AS live
       FROM oidc_artifacts a
      WHERE a.model = 'RefreshToken'
        AND a.grant_id IS NOT NULL
        AND a.consumed_at IS NULL
        AND (a.expires_at IS NULL OR a.expires_at > now())
        AND NOT EXISTS (SELECT 1 FROM revoked_grants g
                         WHERE g.tenant_id = a.tenant_id AND g.grant_id = a.grant_id AND g.expires_at > now())
        AND ($1::uuid IS NULL OR a.tenant_id = $1::uuid)
      GROUP BY a.tenant_id, a.grant_id
     HAVING count(*) > 1
      ORDER BY a.grant_id`,
    [tenantId ?? null],
  );
  return rows.map((r) => ({ grantId: r.grant_id, live: Number(r.live) }));
}

/** the check as the load test reports it: one line per problem, none when it holds */
export async function refreshTokenProblems(db: Pick<pg.ClientBase, 'query'>, tenantId?: string): Promise<string[]> {
  const doubled = await grantsWithSeveralLiveRefreshTokens(db, tenantId);
  if (!doubled.length) return [];
  const sample = doubled
    .slice(0, 3)
    .map((g) => `${g.grantId.slice(0, 12)}…: ${g.live}`)
    .join(', ');
  return [`${doubled.length} grant(s) with more than one live refresh token (${sample})`];
}
