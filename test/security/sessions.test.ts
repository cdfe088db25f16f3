/**
 * Audit findings 6, 7 and 8 (issue 13).
 * 6: a password change, disable or delete ended nothing: an admin reset left the old refresh token
 *    refreshing and a disabled user's access tokens active. Now each ends the user's refresh tokens,
 *    browser sessions and (through a per-user cut-off) every access token issued so far, at
 *    introspection and at the admin API. Disabling or deleting a client ends its tokens too.
 * 7: a refused refresh burned the refresh token (and a second try looked like reuse). Now the
 *    rotation commits only with a successful answer; of N parallel refreshes exactly one wins and its
 *    successor works.
 * 8: opaque (userinfo-only) access tokens could not be revoked. Now revocation deletes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { adminClient } from '../admin/helpers.ts';
import { PASSWORDS, SPA, browse, introspect, passwordGrant, pkcePair, redeem, startDept, type Dept } from './support.ts';

describe.each(BACKENDS)("what ends a user's sessions and tokens, on %s", (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend);
  });
  afterAll(() => d?.server.stop());

  const refresh = (rt: string, extra: Record<string, string> = {}) =>
    tokenRequest(d.disco.token_endpoint!, { grant_type: 'refresh_token', refresh_token: rt, ...extra }, d.webapp);
  const newUser = async (roles: string[] = ['viewer', 'tenant-admin']) => {
    const username = `u${Math.random().toString(36).slice(2, 8)}`;
    const password = `${username}-first-password`;
    const res = await d.boss('POST', '/tenants/dept/users', { username, password, roles });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, username, password };
  };
  /** a staff-app sign-in and an admin-cli sign-in of the same user */
  const tokensOf = async (u: { username: string; password: string }) => {
    const staff = await passwordGrant(d, u.username, u.password);
    const admin = await tokenRequest(d.disco.token_endpoint!, { grant_type: 'password', client_id: 'admin-cli', username: u.username, password: u.password });
    expect(staff.status).toBe(200);
    expect(admin.status).toBe(200);
    return { at: staff.body.access_token as string, rt: staff.body.refresh_token as string, admin: admin.body.access_token as string };
  };
  const expectEnded = async (t: { at: string; rt: string; admin: string }) => {
    expect((await refresh(t.rt)).body.error).toBe('invalid_grant');
    expect((await introspect(d, t.at)).body).toEqual({ active: false });
    expect((await adminClient(d.url, t.admin)('GET', '/tenants/dept')).status).toBe(401);
  };

  it('ends everything at an admin password reset; the new password works at once', async () => {
    const u = await newUser();
    const t = await tokensOf(u);
    expect((await introspect(d, t.at)).body.active).toBe(true);
    expect((await d.boss('PATCH', `/tenants/dept/users/${u.id}`, { password: 'a-brand-new-password' })).status).toBe(200);
    await expectEnded(t);
    // a sign-in with the new password right after the reset gets tokens that are not born revoked
    const fresh = await tokensOf({ username: u.username, password: 'a-brand-new-password' });
    expect((await introspect(d, fresh.at)).body.active).toBe(true);
    expect((await adminClient(d.url, fresh.admin)('GET', '/tenants/dept')).status).toBe(200);
    expect((await refresh(fresh.rt)).status).toBe(200);
  });

  it('ends everything when the user is disabled', async () => {
    const u = await newUser();
    const t = await tokensOf(u);
    expect((await d.boss('PATCH', `/tenants/dept/users/${u.id}`, { disabled: true })).status).toBe(200);
    await expectEnded(t);
  });

  it('ends everything when the user is deleted', async () => {
    const u = await newUser();
    const t = await tokensOf(u);
    expect((await d.boss('DELETE', `/tenants/dept/users/${u.id}`)).status).toBe(204);
    await expectEnded(t);
  });

  it('ends the browser session: the next authorization asks for the password again', async () => {
    const u = await newUser(['viewer']);
    const pkce = pkcePair();
    const options = {
      clientId: d.spa.clientId,
      redirectUri: SPA,
      username: u.username,
      password: u.password,
      scope: 'openid outbreaks:read',
      challenge: pkce.challenge,
    };
    const first = await browse(d, options);
    expect(first.code).toBeTruthy();
    // signed in: a second authorization with the same browser needs no password (consent was given)
    const again = await browse(d, { ...options, jar: first.jar, password: 'not-asked' });
    expect(again.code).toBeTruthy();
    expect(again.pages.some((p) => p.includes('name="password"'))).toBe(false);
    // no session row keeps the cookie's value
    const sessions = await d.server.tessera.db.prisma.oidcArtifact.findMany({ where: { tenantId: d.tenantId, model: 'Session' } });
    const dump = JSON.stringify(sessions);
    for (const value of first.jar.values()) expect(dump).not.toContain(value);
    expect((await d.boss('PATCH', `/tenants/dept/users/${u.id}`, { password: 'another-new-password' })).status).toBe(200);
    const after = await browse(d, { ...options, jar: first.jar, password: 'another-new-password' });
    expect(after.pages.some((p) => p.includes('name="password"'))).toBe(true);
    expect(after.code).toBeTruthy();
  });

  it("ends a client's tokens when the client is disabled or deleted", async () => {
    for (const end of ['disable', 'delete'] as const) {
      const a = await d.boss('POST', '/tenants/dept/clients', { name: 'batch', grantTypes: ['client_credentials'], roles: ['viewer'] });
      const creds = { clientId: a.body.clientId as string, clientSecret: a.body.clientSecret as string };
      const cc = await tokenRequest(d.disco.token_endpoint!, { grant_type: 'client_credentials', resource: 'https://epi.example.org/api' }, creds);
      expect((await introspect(d, cc.body.access_token as string)).body.active).toBe(true);
      const res =
        end === 'disable'
          ? await d.boss('PATCH', `/tenants/dept/clients/${creds.clientId}`, { disabled: true })
          : await d.boss('DELETE', `/tenants/dept/clients/${creds.clientId}`);
      expect(res.status).toBe(end === 'disable' ? 200 : 204);
      expect((await introspect(d, cc.body.access_token as string)).body).toEqual({ active: false });
    }
  });

  it('leaves a refresh token usable after a refused refresh, with no false reuse alarm', async () => {
    const signIn = await passwordGrant(d, 'alice', PASSWORDS.alice);
    const rt = signIn.body.refresh_token as string;
    const refused = await refresh(rt, { resource: 'https://unknown.example/api' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    const ok = await refresh(rt);
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).not.toBe(rt);
    const alarms = await d.server.tessera.db.prisma.auditEvent.count({ where: { tenantId: d.tenantId, type: 'refresh.reuse_detected' } });
    expect(alarms).toBe(0);
  });

  it('gives exactly one of 20 parallel refreshes the successor, and that successor works', async () => {
    const signIn = await passwordGrant(d, 'victor', PASSWORDS.victor);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(signIn.body.refresh_token as string)));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser.status).toBe(400);
      expect(loser.body.error).toBe('invalid_grant');
    }
    const next = await refresh(winners[0]!.body.refresh_token as string);
    expect(next.status).toBe(200);
    expect((await introspect(d, next.body.access_token as string)).body.active).toBe(true);
    // a *later* replay of the rotated token (past REFRESH_TOKEN_REUSE_INTERVAL) is reuse: the whole grant is revoked
    await new Promise((r) => setTimeout(r, 2100));
    const replay = await refresh(signIn.body.refresh_token as string);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(next.body.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('revokes an opaque (userinfo-only) access token', async () => {
    const profile = await d.boss('POST', '/tenants/dept/clients', {
      name: 'Profile',
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['http://127.0.0.1:9/profile/'],
    });
    const clientId = profile.body.clientId as string;
    const pkce = pkcePair();
    const flow = await browse(d, {
      clientId,
      redirectUri: 'http://127.0.0.1:9/profile/',
      username: 'alice',
      password: PASSWORDS.alice,
      scope: 'openid profile',
      challenge: pkce.challenge,
    });
    const tokens = await redeem(d, clientId, 'http://127.0.0.1:9/profile/', flow.code!, pkce.verifier);
    const at = tokens.body.access_token as string;
    expect(at.split('.')).toHaveLength(1);
    const me = () => fetch(d.disco.userinfo_endpoint!, { headers: { authorization: `Bearer ${at}` } });
    expect((await me()).status).toBe(200);
    expect((await introspect(d, at)).body).toMatchObject({ active: true, sub: d.users.alice, client_id: clientId });
    const res = await fetch(d.disco.revocation_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: at, client_id: clientId }),
    });
    expect(res.status).toBe(200);
    expect((await me()).status).toBe(401);
    expect((await introspect(d, at)).body).toEqual({ active: false });
  });
});
