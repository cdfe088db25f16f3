/**
 * Audit finding 1 (issue 13): the admin API accepted any token whose audience was the admin
 * resource, whatever its scope — and the code flow issued exactly such tokens (`resource=…/admin`,
 * `scope=openid`). Now: the admin API demands the `admin` scope; the code flow follows the token
 * endpoint's rule (nothing granted on the requested API → `invalid_scope`, no code, no
 * audience-bound token with an empty scope); consent lists only what the user's roles grant.
 */
import { SignJWT, decodeJwt, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { adminClient } from '../admin/helpers.ts';
import { ADMIN_PASSWORD } from '../helpers/tessera.ts';
import { API, PASSWORDS, browse, passwordGrant, pkcePair, redeem, startDept, type Dept } from './support.ts';

describe.each(BACKENDS)('the admin scope and the code-flow scope rule on %s', (backend) => {
  let d: Dept;
  const ADMIN_APP = 'http://127.0.0.1:9/admin-app/';
  let systemApp: string;
  let deptApp: string;
  beforeAll(async () => {
    d = await startDept(backend);
    // public authorization-code clients asking for the admin API, in `system` and in a department
    const sys = await d.platform('POST', '/tenants/system/clients', {
      name: 'innocent looking app',
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [ADMIN_APP],
    });
    systemApp = sys.body.clientId as string;
    const dep = await d.boss('POST', '/tenants/dept/clients', {
      name: 'dept app',
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [ADMIN_APP],
    });
    deptApp = dep.body.clientId as string;
  });
  afterAll(() => d?.server.stop());

  const adminAudience = () => `${d.url}/admin`;

  it('refuses resource=admin with scope=openid in the code flow (system): invalid_scope, no code', async () => {
    const dd = { ...d, disco: await discover(d.url, 'system') };
    const result = await browse(dd, {
      clientId: systemApp,
      redirectUri: ADMIN_APP,
      username: 'admin',
      password: ADMIN_PASSWORD,
      scope: 'openid',
      resource: adminAudience(),
    });
    expect(result.code).toBeUndefined();
    expect(result.error).toBe('invalid_scope');
  });

  it('refuses the same in a department with its tenant admin', async () => {
    const result = await browse(d, {
      clientId: deptApp,
      redirectUri: ADMIN_APP,
      username: 'boss',
      password: PASSWORDS.boss,
      scope: 'openid',
      resource: adminAudience(),
    });
    expect(result.code).toBeUndefined();
    expect(result.error).toBe('invalid_scope');
  });

  it('gives admin-API codes only to first-party clients, never to one a tenant admin can change', async () => {
    // a third-party client, even asked for the admin scope by a tenant admin who has it: refused
    const thirdParty = await browse(d, {
      clientId: deptApp,
      redirectUri: ADMIN_APP,
      username: 'boss',
      password: PASSWORDS.boss,
      scope: 'openid admin',
      resource: adminAudience(),
    });
    expect(thirdParty.code).toBeUndefined();
    expect(thirdParty.error).toBe('invalid_scope');
    // a first-party client (made by the operator, immutable to tenant admins) gets it, without a consent page
    const console_ = await d.server.tessera.services.forTenant(d.tenantId).clients.create({
      name: 'Admin console',
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [ADMIN_APP],
      firstParty: true,
    });
    const pkce = pkcePair();
    const flow = await browse(d, {
      clientId: console_.clientId,
      redirectUri: ADMIN_APP,
      username: 'boss',
      password: PASSWORDS.boss,
      scope: 'openid admin',
      resource: adminAudience(),
      challenge: pkce.challenge,
    });
    expect(flow.code).toBeTruthy();
    const res = await redeem(d, console_.clientId, ADMIN_APP, flow.code!, pkce.verifier);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({ aud: adminAudience(), scope: 'admin' });
    expect((await adminClient(d.url, res.body.access_token as string)('GET', '/tenants/dept')).status).toBe(200);
  });

  it('gives a user with no role on an API no token for it: not at the token endpoint, not through the code flow', async () => {
    const grant = await passwordGrant(d, 'nora', PASSWORDS.nora);
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('invalid_scope');
    const flow = await browse(d, {
      clientId: d.spa.clientId,
      redirectUri: 'http://127.0.0.1:9/spa/',
      username: 'nora',
      password: PASSWORDS.nora,
      scope: 'openid outbreaks:read',
    });
    expect(flow.code).toBeUndefined();
    expect(flow.error).toBe('invalid_scope');
  });

  it('lists on the consent page only the scopes the user is granted, and grants only those', async () => {
    const pkce = pkcePair();
    const options = {
      clientId: d.spa.clientId,
      redirectUri: 'http://127.0.0.1:9/spa/',
      username: 'victor',
      password: PASSWORDS.victor,
      scope: 'openid outbreaks:read simulate:run',
      challenge: pkce.challenge,
    };
    const seen = await browse(d, { ...options, stopAtConsent: true });
    expect(seen.consentPage).toContain('outbreaks:read on Epidemic model');
    expect(seen.consentPage).not.toContain('simulate:run');
    const done = await browse(d, { ...options, jar: seen.jar });
    const res = await redeem(d, d.spa.clientId, 'http://127.0.0.1:9/spa/', done.code!, pkce.verifier);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({ aud: API, scope: 'outbreaks:read' });
  });

  it('never refreshes into an audience-bound token with an empty scope', async () => {
    // a code-flow refresh token also holds `openid`: asking for just that used to give a token for
    // the API with an empty scope
    const pkce = pkcePair();
    const flow = await browse(d, {
      clientId: d.spa.clientId,
      redirectUri: 'http://127.0.0.1:9/spa/',
      username: 'alice',
      password: PASSWORDS.alice,
      scope: 'openid outbreaks:read',
      challenge: pkce.challenge,
    });
    const tokens = await redeem(d, d.spa.clientId, 'http://127.0.0.1:9/spa/', flow.code!, pkce.verifier);
    expect(tokens.status).toBe(200);
    const res = await tokenRequest(d.disco.token_endpoint!, {
      grant_type: 'refresh_token',
      client_id: d.spa.clientId,
      refresh_token: tokens.body.refresh_token as string,
      scope: 'openid',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(res.body.access_token).toBeUndefined();
    // the refused refresh did not burn the refresh token
    const again = await tokenRequest(d.disco.token_endpoint!, {
      grant_type: 'refresh_token',
      client_id: d.spa.clientId,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(again.status).toBe(200);
    expect(decodeJwt(again.body.access_token as string)).toMatchObject({ aud: API, scope: 'outbreaks:read' });
  });

  it('refuses, with 403 insufficient_scope, a valid admin-audience token without the admin scope', async () => {
    // signed with the system tenant's own key, exactly what the code flow used to issue
    const tenant = (await d.server.tessera.pool.get('system'))!;
    const key = await importJWK(tenant.model.keys[0]!, tenant.model.signingAlg);
    const adminUser = await d.server.tessera.db.prisma.user.findFirstOrThrow({ where: { tenant: { slug: 'system' }, username: 'admin' } });
    const token = await new SignJWT({ scope: 'openid', client_id: systemApp, roles: ['platform-admin', 'tenant-admin'], tenant_id: 'system' })
      .setProtectedHeader({ alg: tenant.model.signingAlg, typ: 'at+jwt', kid: tenant.model.activeKid })
      .setIssuer(`${d.url}/t/system`)
      .setAudience(adminAudience())
      .setSubject(adminUser.id)
      .setJti('forged-without-scope')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
    const api = adminClient(d.url, token);
    const res = await api('POST', '/tenants', { slug: 'escalated', name: 'nope' });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await api('GET', '/tenants/system')).status).toBe(403);
    expect(await d.server.tessera.db.prisma.tenant.count({ where: { slug: 'escalated' } })).toBe(0);
  });
});
