/**
 * Every refusal of the admin API (issue 3): 401 without or with a bad token, 403 across tenants
 * and for staff without tenant-admin, 404, 405, 409, 400, 413, all as RFC 9457 problem+json.
 */
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { signAsTenant } from '../helpers/timetravel-tokens.ts';
import { adminClient, adminToken, type ApiResponse } from './helpers.ts';

const API = 'https://api.example.org/epi';

function expectProblem(res: ApiResponse, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ type: `urn:tessera:problem:${code}`, status });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|prisma|SELECT /i);
}

describe.each(BACKENDS)('admin API refusals on %s', (backend) => {
  let server: TestServer;
  let platform: ReturnType<typeof adminClient>;
  let adminA: ReturnType<typeof adminClient>;
  let staffA: ReturnType<typeof adminClient>;
  let staffTokenA: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    platform = adminClient(server.url, await adminToken(server.url, 'system', 'admin', ADMIN_PASSWORD));
    for (const slug of ['tenant-a', 'tenant-b']) {
      const res = await platform('POST', '/tenants', { slug, name: slug, admin: { username: 'boss', password: `${slug}-boss-pw` } });
      expect(res.status).toBe(201);
    }
    adminA = adminClient(server.url, await adminToken(server.url, 'tenant-a', 'boss', 'tenant-a-boss-pw'));
    await adminA('POST', '/tenants/tenant-a/resources', { audience: API, name: 'api', scopes: ['read'] });
    // a staff member with a role that grants scope on the admin API but is not tenant-admin
    await adminA('POST', '/tenants/tenant-a/roles', { name: 'auditor', permissions: [{ resource: `${server.url}/admin`, scope: 'admin' }] });
    await adminA('POST', '/tenants/tenant-a/users', { username: 'sam', password: 'sam-staff-password', roles: ['auditor'] });
    staffTokenA = await adminToken(server.url, 'tenant-a', 'sam', 'sam-staff-password');
    staffA = adminClient(server.url, staffTokenA);
  });
  afterAll(() => server?.stop());
  afterEach(() => {
    vi.useRealTimers();
  });

  it('401 without a token, with WWW-Authenticate: Bearer', async () => {
    const res = await adminClient(server.url)('GET', '/tenants/tenant-a');
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('401 for malformed, forged and foreign-audience tokens', async () => {
    const forged = await new SignJWT({ roles: ['platform-admin'], client_id: 'admin-cli', scope: 'admin' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'whatever' })
      .setIssuer(`${server.url}/t/system`)
      .setAudience(`${server.url}/admin`)
      .setSubject('x')
      .setExpirationTime('1h')
      .sign((await generateKeyPair('ES256')).privateKey);
    const apiToken = await tokenRequest((await discover(server.url, 'tenant-a')).token_endpoint!, {
      grant_type: 'password',
      client_id: 'admin-cli',
      username: 'boss',
      password: 'tenant-a-boss-pw',
      resource: API,
    });
    for (const token of ['garbage', 'a.b.c', forged, String(apiToken.body.access_token ?? 'x')]) {
      const res = await adminClient(server.url, token)('GET', '/tenants/tenant-a');
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  /** the answer to an expired token: 401 problem+json that says so in WWW-Authenticate (RFC 6750 §3.1) */
  const expectExpired = (res: ApiResponse) => {
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera-admin", error="invalid_token"');
    expect(res.body.detail).toMatch(/expired/);
  };

  it('401 for a real admin token once it has expired (the server clock moved past exp)', async () => {
    const token = await adminToken(server.url, 'tenant-a', 'boss', 'tenant-a-boss-pw');
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(3600);
    const api = adminClient(server.url, token);
    expect((await api('GET', '/tenants/tenant-a')).status).toBe(200);
    // the server runs in this process: its clock is set to just before, then past, the expiry
    // (beyond the 5 s clock tolerance)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(exp! * 1000 - 1000);
    expect((await api('GET', '/tenants/tenant-a')).status).toBe(200);
    vi.setSystemTime(exp! * 1000 + 6000);
    expectExpired(await api('GET', '/tenants/tenant-a'));
    expectExpired(await api('POST', '/tenants/tenant-a/roles', { name: 'too-late', permissions: [] }));
    vi.useRealTimers();
    // nothing else was wrong with it: in real time it is accepted again, and nothing was created
    expect((await api('GET', '/tenants/tenant-a')).status).toBe(200);
    expectProblem(await api('GET', '/tenants/tenant-a/roles/too-late'), 404, 'not_found');
  });

  it('401 for admin tokens signed with the tenant key whose exp has passed', async () => {
    const real = await adminToken(server.url, 'tenant-a', 'boss', 'tenant-a-boss-pw');
    const claims = decodeJwt(real);
    const now = Math.floor(Date.now() / 1000);
    // the same claims re-signed with the tenant's own key are accepted: the key and claims are right
    const resigned = await signAsTenant(server, 'tenant-a', claims);
    expect(decodeProtectedHeader(resigned).kid).toBe(decodeProtectedHeader(real).kid);
    expect((await adminClient(server.url, resigned)('GET', '/tenants/tenant-a')).status).toBe(200);
    // expired an hour ago, and just beyond the clock tolerance
    for (const exp of [now - 3600, now - 10]) {
      const expired = await signAsTenant(server, 'tenant-a', { ...claims, iat: exp - 3600, exp });
      expectExpired(await adminClient(server.url, expired)('GET', '/tenants/tenant-a'));
    }
    // a platform admin's expired token is no better
    const platformClaims = decodeJwt(await adminToken(server.url, 'system', 'admin', ADMIN_PASSWORD));
    const expiredPlatform = await signAsTenant(server, 'system', { ...platformClaims, iat: now - 7200, exp: now - 3600 });
    expectExpired(await adminClient(server.url, expiredPlatform)('GET', '/tenants'));
  });

  it('403 for a tenant admin acting on another tenant, creating tenants or assigning platform-admin', async () => {
    expectProblem(await adminA('GET', '/tenants/tenant-b'), 403, 'forbidden');
    expectProblem(await adminA('POST', '/tenants/tenant-b/users', { username: 'x', password: 'xxxxxxxx', roles: [] }), 403, 'forbidden');
    expectProblem(await adminA('GET', '/tenants/system'), 403, 'forbidden');
    expectProblem(await adminA('GET', '/tenants/does-not-exist'), 403, 'forbidden');
    expectProblem(await adminA('POST', '/tenants', { slug: 'mine', name: 'mine' }), 403, 'forbidden');
    expectProblem(await adminA('GET', '/tenants'), 403, 'forbidden');
    expectProblem(
      await adminA('POST', '/tenants/tenant-a/users', { username: 'evil', password: 'evil-password', roles: ['platform-admin'] }),
      403,
      'forbidden',
    );
    // the system tenant's own tenant admin cannot mint platform admins either
    const sys = await platform('POST', '/tenants/system/users', { username: 'sysop', password: 'sysop-password', roles: ['tenant-admin'] });
    expect(sys.status).toBe(201);
    const sysop = adminClient(server.url, await adminToken(server.url, 'system', 'sysop', 'sysop-password'));
    expectProblem(await sysop('PATCH', `/tenants/system/users/${sys.body.id as string}`, { roles: ['platform-admin'] }), 403, 'forbidden');
    expectProblem(await sysop('GET', '/tenants/tenant-a'), 403, 'forbidden');
  });

  it('403 for staff without tenant-admin', async () => {
    expectProblem(await staffA('GET', '/tenants/tenant-a'), 403, 'forbidden');
    expectProblem(await staffA('GET', '/tenants/tenant-a/users'), 403, 'forbidden');
  });

  it('401 once the admin is disabled, at once', async () => {
    const created = await adminA('POST', '/tenants/tenant-a/users', { username: 'temp-admin', password: 'temp-admin-pw', roles: ['tenant-admin'] });
    const temp = adminClient(server.url, await adminToken(server.url, 'tenant-a', 'temp-admin', 'temp-admin-pw'));
    expect((await temp('GET', '/tenants/tenant-a')).status).toBe(200);
    await adminA('PATCH', `/tenants/tenant-a/users/${created.body.id as string}`, { disabled: true });
    expectProblem(await temp('GET', '/tenants/tenant-a'), 401, 'unauthorized');
  });

  it('401 for an admin token revoked by its (public) client', async () => {
    const token = await adminToken(server.url, 'tenant-a', 'boss', 'tenant-a-boss-pw');
    const api = adminClient(server.url, token);
    expect((await api('GET', '/tenants/tenant-a')).status).toBe(200);
    const res = await fetch(`${server.url}/t/tenant-a/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: 'admin-cli' }),
    });
    expect(res.status).toBe(200);
    expectProblem(await api('GET', '/tenants/tenant-a'), 401, 'unauthorized');
  });

  it('404 for unknown items and endpoints', async () => {
    expectProblem(await platform('GET', '/tenants/no-such-tenant'), 404, 'not_found');
    expectProblem(await adminA('GET', '/tenants/tenant-a/users/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    expectProblem(await adminA('GET', '/tenants/tenant-a/users/not-a-uuid'), 404, 'not_found');
    expectProblem(await adminA('PATCH', '/tenants/tenant-a/clients/nope', { name: 'x' }), 404, 'not_found');
    expectProblem(await adminA('DELETE', '/tenants/tenant-a/roles/nope'), 404, 'not_found');
    expectProblem(await adminA('GET', '/tenants/tenant-a/resources/nope'), 404, 'not_found');
    expectProblem(await adminA('GET', '/no/such/thing'), 404, 'not_found');
  });

  it('405 with Allow for a path that exists with other methods', async () => {
    const put = await adminA('PUT', '/tenants/tenant-a/users', { username: 'x' });
    expectProblem(put, 405, 'method_not_allowed');
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    const del = await platform('DELETE', '/tenants/tenant-a');
    expectProblem(del, 405, 'method_not_allowed');
    expect(del.headers.get('allow')).toBe('GET, HEAD, PATCH');
    const rotate = await adminA('GET', '/tenants/tenant-a/keys/rotate');
    expect(rotate.status).toBe(405);
    expect(rotate.headers.get('allow')).toBe('POST');
    expect((await platform('POST', '/openapi.json')).headers.get('allow')).toBe('GET, HEAD');
  });

  it('409 for duplicates and built-ins', async () => {
    expectProblem(await platform('POST', '/tenants', { slug: 'tenant-a', name: 'again' }), 409, 'conflict');
    expectProblem(await platform('POST', '/tenants', { slug: 'system', name: 'again' }), 409, 'conflict');
    expectProblem(await adminA('POST', '/tenants/tenant-a/users', { username: 'sam', password: 'another-password', roles: [] }), 409, 'conflict');
    expectProblem(await adminA('POST', '/tenants/tenant-a/resources', { audience: API, name: 'dup', scopes: [] }), 409, 'conflict');
    expectProblem(await adminA('POST', '/tenants/tenant-a/roles', { name: 'auditor', permissions: [] }), 409, 'conflict');
    // built-ins: a tenant admin may not touch them (403, the policy); a platform admin meets the invariant (409)
    expectProblem(await adminA('DELETE', '/tenants/tenant-a/roles/tenant-admin'), 403, 'forbidden');
    expectProblem(await platform('DELETE', '/tenants/tenant-a/roles/tenant-admin'), 409, 'conflict');
    expectProblem(await adminA('DELETE', '/tenants/tenant-a/clients/admin-cli'), 403, 'forbidden');
    expectProblem(await platform('DELETE', '/tenants/tenant-a/clients/admin-cli'), 409, 'conflict');
  });

  it('400 for malformed or invalid input, naming the fields', async () => {
    const bad = await platform('POST', '/tenants', { slug: 'Bad Slug!', name: '' });
    expectProblem(bad, 400, 'invalid_request');
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['slug', 'name']));
    expectProblem(await platform('POST', '/tenants', '{"slug": '), 400, 'invalid_request');
    expectProblem(await platform('POST', '/tenants', { slug: 'ok-slug', name: 'x', extra: true }), 400, 'invalid_request');
    expectProblem(await adminA('POST', '/tenants/tenant-a/roles', { name: 'r', permissions: [{ resource: API, scope: 'write' }] }), 400, 'invalid_request');
    expectProblem(await adminA('POST', '/tenants/tenant-a/users', { username: 'u', password: 'short', roles: [] }), 400, 'invalid_request');
    expectProblem(await adminA('POST', '/tenants/tenant-a/users', { username: 'u2', password: 'long-enough', roles: ['nope'] }), 400, 'invalid_request');
    expectProblem(await adminA('POST', '/tenants/tenant-a/clients', { name: 'c', grantTypes: ['implicit'] }), 400, 'invalid_request');
    expectProblem(
      await adminA('POST', '/tenants/tenant-a/clients', { name: 'c', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'none' }),
      400,
      'invalid_request',
    );
    expectProblem(await adminA('GET', '/tenants/tenant-a/users?limit=0'), 400, 'invalid_request');
  });

  it('413 for a body that is too large', async () => {
    const res = await platform('POST', '/tenants', { slug: 'big', name: 'x'.repeat(100_000) });
    expectProblem(res, 413, 'payload_too_large');
  });
});
