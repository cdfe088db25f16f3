/**
 * The load test's "one live refresh token per grant" check (bench/integrity.ts) can trip: it
 * passes on the state real traffic leaves (sign-ins, rotations, parallel refreshes of one token),
 * and reports a grant holding two live refresh tokens — built here by duplicating an artifact
 * row, the state a non-atomic rotation would leave. PostgreSQL, as the load test.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantsWithSeveralLiveRefreshTokens, refreshTokenProblems } from '../../bench/integrity.ts';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';

const API = 'https://api.check.example';

describe('load test check: one live refresh token per grant (PostgreSQL)', () => {
  let server: TestServer;
  let db: pg.Client;
  let tenantId: string;
  let otherTenantId: string;
  let auth: string;
  const token = async (body: Record<string, string>) => {
    const res = await fetch(`${server.url}/t/check/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const signIn = async () => {
    const r = await token({ grant_type: 'password', username: 'staff', password: 'correct horse battery staple' });
    expect(r.status).toBe(200);
    return r.body.refresh_token as string;
  };
  /** copies one live refresh token row of `grantId` under a new id (its id + `suffix`): a second live token of that grant */
  const duplicate = (grantId: string, suffix = '-duplicate') =>
    db.query(
      `INSERT INTO oidc_artifacts (tenant_id, model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
       SELECT tenant_id, model, id || $2, payload, grant_id, uid, user_code, expires_at, consumed_at
         FROM oidc_artifacts
        WHERE model = 'RefreshToken' AND grant_id = $1 AND consumed_at IS NULL
        LIMIT 1`,
      [grantId, suffix],
    );
  const liveGrants = async () =>
    (
      await db.query<{ grant_id: string }>(
        "SELECT DISTINCT grant_id FROM oidc_artifacts WHERE tenant_id = $1 AND model = 'RefreshToken' AND consumed_at IS NULL ORDER BY grant_id",
        [tenantId],
      )
    ).rows.map((r) => r.grant_id);

  beforeAll(async () => {
    server = await startTestServer('postgres');
    const { services } = server.tessera;
    for (const slug of ['check', 'other']) {
      const t = await services.tenants.create({ slug, name: slug });
      const s = services.forTenant(t.id);
      await s.resources.create({ audience: API, name: 'api', scopes: ['read'] });
      await s.roles.create({ name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
      await s.users.create({ username: 'staff', password: 'correct horse battery staple', roles: ['reader'] });
      const client = await s.clients.create({ name: 'web', grantTypes: ['password', 'refresh_token'], defaultResource: API });
      if (slug === 'check') {
        tenantId = t.id;
        auth = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
      } else {
        otherTenantId = t.id;
      }
    }
    db = new pg.Client({ connectionString: server.database.env.DATABASE_URL });
    await db.connect();

    // what the load test's traffic leaves: sign-ins, rotations, and parallel refreshes of one token
    const first = await signIn();
    const rotated = await token({ grant_type: 'refresh_token', refresh_token: first });
    expect(rotated.status).toBe(200);
    const race = await Promise.all(
      Array.from({ length: 4 }, () => token({ grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string })),
    );
    expect(race.filter((r) => r.status === 200)).toHaveLength(1);
    await signIn();
    await signIn();
  });
  afterAll(async () => {
    await db?.end();
    await server?.stop();
  });

  it('passes on the state real traffic leaves', async () => {
    expect((await liveGrants()).length).toBe(3);
    expect(await grantsWithSeveralLiveRefreshTokens(db, tenantId)).toEqual([]);
    expect(await refreshTokenProblems(db, tenantId)).toEqual([]);
    expect(await refreshTokenProblems(db)).toEqual([]);
  });

  it('reports a grant with two live refresh tokens (a duplicated artifact row)', async () => {
    const [grantId] = await liveGrants();
    expect((await duplicate(grantId!)).rowCount).toBe(1);
    expect(await grantsWithSeveralLiveRefreshTokens(db, tenantId)).toEqual([{ grantId, live: 2 }]);
    // without a tenant, across the whole database, too
    expect(await grantsWithSeveralLiveRefreshTokens(db)).toEqual([{ grantId, live: 2 }]);
    const problems = await refreshTokenProblems(db, tenantId);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^1 grant\(s\) with more than one live refresh token/);
    // another tenant's check is not affected
    expect(await grantsWithSeveralLiveRefreshTokens(db, otherTenantId)).toEqual([]);
    await db.query("DELETE FROM oidc_artifacts WHERE id LIKE '%-duplicate'");
    expect(await refreshTokenProblems(db, tenantId)).toEqual([]);
  });

  it('does not count a duplicate that is consumed, expired, or of a revoked grant', async () => {
    const grants = await liveGrants();
    const [consumed, expired, revoked] = grants as [string, string, string];
    await duplicate(consumed, '-duplicate-c');
    await db.query("UPDATE oidc_artifacts SET consumed_at = now() WHERE id LIKE '%-duplicate-c'");
    await duplicate(expired, '-duplicate-e');
    await db.query("UPDATE oidc_artifacts SET expires_at = now() - interval '1 second' WHERE id LIKE '%-duplicate-e'");
    await duplicate(revoked, '-duplicate-r');
    await db.query("INSERT INTO revoked_grants (tenant_id, grant_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')", [tenantId, revoked]);
    expect(await grantsWithSeveralLiveRefreshTokens(db, tenantId)).toEqual([]);
    // and the same duplicates, live, are each reported
    await db.query("UPDATE oidc_artifacts SET consumed_at = NULL, expires_at = now() + interval '1 hour' WHERE id LIKE '%-duplicate-%'");
    await db.query('DELETE FROM revoked_grants WHERE tenant_id = $1', [tenantId]);
    expect((await grantsWithSeveralLiveRefreshTokens(db, tenantId)).map((g) => g.live)).toEqual([2, 2, 2]);
  });
});
