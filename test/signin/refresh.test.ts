/**
 * Refresh tokens (CONTRACT §4, issue 4): rotation on every use, reuse revokes the family,
 * parallel use yields exactly one success, roles and disabled state re-read at each refresh.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { PASSWORDS, startDepartment, type Department } from './fixture.ts';

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
    await new Promise((r) => setTimeout(r, 2100));
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

  it('expires refresh tokens after the idle lifetime', async () => {
    const rt0 = await signIn('victor');
    const prisma = d.server.tessera.db.prisma;
    const row = (await prisma.oidcArtifact.findMany({ where: { tenantId: d.tenantId, model: 'RefreshToken' }, orderBy: { expiresAt: 'desc' }, take: 1 }))[0]!;
    // default idle lifetime: 7 days, within the 30-day absolute lifetime
    const ttl = (row.expiresAt!.getTime() - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(7 * 86400 - 60);
    expect(ttl).toBeLessThanOrEqual(7 * 86400);
    expect(rt0).toBeTruthy();
  });
});
