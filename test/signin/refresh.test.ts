/**
 * Refresh tokens (CONTRACT §4, issue 4): rotation on every use, reuse revokes the family,
 * parallel use yields exactly one success, roles and disabled state re-read at each refresh.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ageSignIn, storedRefreshToken } from '../helpers/timetravel-artifacts.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { API, PASSWORDS, startDepartment, type Department } from './fixture.ts';

describe.each(BACKENDS)('refresh tokens on %s', (backend) => {
  let d: Department;
  beforeAll(async () => {
    d = await startDepartment(backend);
  });
  afterAll(() => d?.server.stop());

  const signIn = async (username: keyof typeof PASSWORDS) => {
    const res = await tokenRequest(d.token, { grant_type: 'password', username, password: PASSWORDS[username] }, d.webapp);
    expect(res.status).toBe(200);
    return res.body.refresh_token as string;
  };
  const refresh = (token: string, client = d.webapp) => tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: token }, client);

  it('rotates on every use and keeps the claims', async () => {
    const rt0 = await signIn('alice');
    const r1 = await refresh(rt0);
    expect(r1.status).toBe(200);
    const rt1 = r1.body.refresh_token as string;
    expect(rt1).toBeTruthy();
    expect(rt1).not.toBe(rt0);
    expect(decodeJwt(r1.body.access_token as string)).toMatchObject({ sub: d.users.alice, roles: ['analyst', 'viewer'], tenant_id: 'dept' });
    const r2 = await refresh(rt1);
    expect(r2.status).toBe(200);
    expect(r2.body.refresh_token).not.toBe(rt1);
  });

  it('revokes the whole family when a rotated token is presented again', async () => {
    const rt0 = await signIn('alice');
    const r1 = await refresh(rt0);
    const rt1 = r1.body.refresh_token as string;
    // within REFRESH_TOKEN_REUSE_INTERVAL (2 s) a second presentation is a request sent in
    // parallel: refused, the family kept; after it, reuse
    const early = await refresh(rt0);
    expect(early.body.error).toBe('invalid_grant');
    expect(await d.server.tessera.db.prisma.revokedGrant.count({ where: { tenantId: d.tenantId } })).toBe(0);
    // three seconds pass for this sign-in (rt0 was consumed 3 s ago), without waiting for them
    await ageSignIn(d.server.tessera.db.prisma, d.tenantId, rt0, 3);
    const reuse = await refresh(rt0);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // the descendant dies with the family
    const after = await refresh(rt1);
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
    const grants = await d.server.tessera.db.prisma.revokedGrant.count({ where: { tenantId: d.tenantId } });
    expect(grants).toBeGreaterThan(0);
    // the audit event is written right after the answer
    await expect
      .poll(() => d.server.tessera.db.prisma.auditEvent.count({ where: { tenantId: d.tenantId, type: 'refresh.reuse_detected' } }), { timeout: 3000 })
      .toBeGreaterThan(0);
  });

  it('gives exactly one success to 20 parallel refreshes of one token', async () => {
    const rt0 = await signIn('alice');
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(rt0)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 400)) expect(r.body.error).toBe('invalid_grant');
  });

  it('refuses a refresh token presented by another client', async () => {
    const rt0 = await signIn('victor');
    const res = await refresh(rt0, d.other);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('re-reads roles: a removed role disappears from the next token', async () => {
    const { services } = d.server.tessera;
    const users = services.forTenant(d.tenantId).users;
    const created = await users.create({ username: 'rita', password: 'rita-password-1', roles: ['analyst', 'viewer'] });
    const signed = await tokenRequest(d.token, { grant_type: 'password', username: 'rita', password: 'rita-password-1' }, d.webapp);
    expect(decodeJwt(signed.body.access_token as string).roles).toEqual(['analyst', 'viewer']);
    await users.update(created.id, { roles: ['viewer'] });
    const r1 = await refresh(signed.body.refresh_token as string);
    expect(r1.status).toBe(200);
    const claims = decodeJwt(r1.body.access_token as string);
    expect(claims.roles).toEqual(['viewer']);
    expect(claims.scope).toBe('outbreaks:read');
    // with no role left granting anything, refresh fails
    await users.update(created.id, { roles: [] });
    const r2 = await refresh(r1.body.refresh_token as string);
    expect(r2.status).toBe(400);
    expect(r2.body.error).toBe('invalid_grant');
  });

  it('refuses to refresh for a disabled user', async () => {
    const users = d.server.tessera.services.forTenant(d.tenantId).users;
    const u = await users.create({ username: 'dora', password: 'dora-password-1', roles: ['viewer'] });
    const signed = await tokenRequest(d.token, { grant_type: 'password', username: 'dora', password: 'dora-password-1' }, d.webapp);
    await users.update(u.id, { disabled: true });
    const res = await refresh(signed.body.refresh_token as string);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  // Lifetimes (README "Refresh tokens", src/oidc/lifetimes.ts): each refresh token lives the idle
  // lifetime (REFRESH_TOKEN_IDLE_TTL, 7 days), never beyond the absolute lifetime counted from the
  // first sign-in (REFRESH_TOKEN_ABSOLUTE_TTL, 30 days); a client may override either. Nobody waits
  // days here: ageSignIn moves a sign-in's stored artifacts into the past (every instant alike),
  // and the server's own rules decide what has expired.
  const DAY = 86400;
  const HOUR = 3600;
  /** a few minutes either side of a boundary: far more than a test takes, far less than any lifetime */
  const MARGIN = 300;
  const age = (token: string, seconds: number) => ageSignIn(d.server.tessera.db.prisma, d.tenantId, token, seconds);
  /** seconds the stored refresh token has left */
  const left = async (token: string) => {
    const row = await storedRefreshToken(d.server.tessera.db.prisma, d.tenantId, token);
    return (row.expiresAt!.getTime() - Date.now()) / 1000;
  };
  const signInWith = async (client: { clientId: string; clientSecret: string }, username: keyof typeof PASSWORDS = 'victor') => {
    const res = await tokenRequest(d.token, { grant_type: 'password', username, password: PASSWORDS[username] }, client);
    expect(res.status).toBe(200);
    return res.body.refresh_token as string;
  };
  /** refreshes and expects success; resolves with the successor */
  const refreshed = async (token: string, client = d.webapp) => {
    const res = await refresh(token, client);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.refresh_token as string;
  };
  const expectExpired = async (token: string, client = d.webapp) => {
    const res = await refresh(token, client);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  };
  /** a client of the tenant created and configured through the admin API, as an operator would */
  const adminConfiguredClient = async (name: string, overrides: { refreshTokenIdleTtl?: number; refreshTokenAbsoluteTtl?: number }) => {
    const admin = adminClient(d.server.url, await adminToken(d.server.url, 'system', 'admin', ADMIN_PASSWORD));
    const created = await admin('POST', '/tenants/dept/clients', { name, grantTypes: ['password', 'refresh_token'], defaultResource: API });
    expect(created.status).toBe(201);
    const client = { clientId: created.body.clientId as string, clientSecret: created.body.clientSecret as string };
    const patched = await admin('PATCH', `/tenants/dept/clients/${client.clientId}`, overrides);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      refreshTokenIdleTtl: overrides.refreshTokenIdleTtl ?? null,
      refreshTokenAbsoluteTtl: overrides.refreshTokenAbsoluteTtl ?? null,
    });
    return client;
  };

  it('keeps a refresh token for the idle lifetime after its last use, then answers invalid_grant', async () => {
    const used = await signInWith(d.webapp);
    const unused = await signInWith(d.webapp);
    // stored for the default idle lifetime: 7 days
    expect(await left(used)).toBeGreaterThan(7 * DAY - MARGIN);
    expect(await left(used)).toBeLessThanOrEqual(7 * DAY);
    // just inside the idle lifetime it works; just past it, it does not
    await age(used, 7 * DAY - MARGIN);
    await age(unused, 7 * DAY + MARGIN);
    await expectExpired(unused);
    const next = await refreshed(used);
    // idle counts from the last use: the successor has a full idle lifetime again (the sign-in is
    // 7 days old by now, well inside the 30-day absolute lifetime)
    expect(await left(next)).toBeGreaterThan(7 * DAY - MARGIN);
    await age(next, 7 * DAY - MARGIN);
    const last = await refreshed(next);
    await age(last, 7 * DAY + MARGIN);
    await expectExpired(last);
  });

  it('ends even an actively used chain at the absolute lifetime', async () => {
    let token = await signInWith(d.webapp);
    // refreshed every 6 days: never idle for 7, yet the chain ends 30 days after the sign-in
    for (let day = 6; day <= 24; day += 6) {
      await age(token, 6 * DAY);
      token = await refreshed(token);
    }
    // 24 days in: the successor lives what is left of the 30 days (6), not a full idle lifetime (7)
    expect(await left(token)).toBeGreaterThan(6 * DAY - MARGIN);
    expect(await left(token)).toBeLessThanOrEqual(6 * DAY);
    await age(token, 5 * DAY);
    token = await refreshed(token);
    // 29 days in: one day left
    expect(await left(token)).toBeGreaterThan(1 * DAY - MARGIN);
    expect(await left(token)).toBeLessThanOrEqual(1 * DAY);
    const row = await storedRefreshToken(d.server.tessera.db.prisma, d.tenantId, token);
    expect(row.exp! - row.iiat!).toBeGreaterThan(30 * DAY - MARGIN);
    expect(row.exp! - row.iiat!).toBeLessThanOrEqual(30 * DAY);
    // used a day ago, well inside the idle lifetime, but 30 days after the sign-in
    await age(token, 1 * DAY + MARGIN);
    await expectExpired(token);
  });

  it('applies per-client idle lifetimes: a shorter one expires first, a longer one outlives the default', async () => {
    const brief = await adminConfiguredClient('brief idle', { refreshTokenIdleTtl: HOUR });
    const patient = await adminConfiguredClient('patient idle', { refreshTokenIdleTtl: 14 * DAY });
    const briefToken = await signInWith(brief);
    const briefFresh = await signInWith(brief);
    let defaultToken = await signInWith(d.webapp);
    let patientToken = await signInWith(patient);
    expect(await left(briefToken)).toBeLessThanOrEqual(HOUR);
    expect(await left(patientToken)).toBeGreaterThan(14 * DAY - MARGIN);

    // two hours unused: the one-hour override has expired, the default and the longer one have not
    await age(briefToken, 2 * HOUR);
    await age(defaultToken, 2 * HOUR);
    await age(patientToken, 2 * HOUR);
    await expectExpired(briefToken, brief);
    defaultToken = await refreshed(defaultToken);
    patientToken = await refreshed(patientToken, patient);
    // just inside its own hour the short-lived client still refreshes
    await age(briefFresh, HOUR - MARGIN);
    await refreshed(briefFresh, brief);

    // eight days unused: past the tenant's 7 days, inside the client's 14
    await age(defaultToken, 8 * DAY);
    await age(patientToken, 8 * DAY);
    await expectExpired(defaultToken);
    patientToken = await refreshed(patientToken, patient);
    // the longer override is a lifetime too, not forever
    await age(patientToken, 14 * DAY + MARGIN);
    await expectExpired(patientToken, patient);
  });

  it('applies per-client absolute lifetimes: a shorter one ends the chain sooner, a longer one later', async () => {
    const shortChain = await adminConfiguredClient('two-hour chain', { refreshTokenAbsoluteTtl: 2 * HOUR });
    const longChain = await adminConfiguredClient('sixty-day chain', { refreshTokenAbsoluteTtl: 60 * DAY });

    let short = await signInWith(shortChain);
    // capped at the client's two hours from the start, far below the 7-day idle lifetime
    expect(await left(short)).toBeLessThanOrEqual(2 * HOUR);
    expect(await left(short)).toBeGreaterThan(2 * HOUR - MARGIN);
    await age(short, HOUR);
    short = await refreshed(short, shortChain);
    expect(await left(short)).toBeLessThanOrEqual(HOUR);
    await age(short, HOUR + MARGIN);
    await expectExpired(short, shortChain);

    // refreshed every 6 days for 36 days: past the tenant's 30-day limit, inside the client's 60
    let long = await signInWith(longChain);
    for (let day = 6; day <= 36; day += 6) {
      await age(long, 6 * DAY);
      long = await refreshed(long, longChain);
    }
    expect(await left(long)).toBeGreaterThan(7 * DAY - MARGIN);
    // the default chain, used the same way, is refused after 30 days
    let plain = await signInWith(d.webapp);
    for (let day = 6; day <= 24; day += 6) {
      await age(plain, 6 * DAY);
      plain = await refreshed(plain);
    }
    await age(plain, 6 * DAY + MARGIN);
    await expectExpired(plain);
  });
});
