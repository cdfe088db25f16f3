/**
 * Logs are pino JSON, one line per request (request id, tenant, route, status, duration), and no
 * credential reaches them at any level: flows with client secrets, passwords, access and refresh
 * tokens, admin Bearer tokens, cookies and failures run at LOG_LEVEL=trace, and the captured
 * output is searched for every one of those values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { capturedLogger } from '../helpers/log-sink.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, BACKENDS, createTestDatabase, storeEnv, TEST_ENV, type TestDatabase } from '../helpers/tessera.ts';

describe.each(BACKENDS)('logs on %s', (backend) => {
  let tessera: Tessera;
  let database: TestDatabase;
  let captured: ReturnType<typeof capturedLogger>;
  /** every credential value the flows used or received */
  const secrets = new Set<string>([ADMIN_PASSWORD]);
  const keep = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 8) secrets.add(v);
    return v as string;
  };

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    const env = { ...TEST_ENV, LOG_LEVEL: 'trace', ...database.env };
    Object.assign(env, storeEnv(backend));
    const config = loadConfig(env);
    captured = capturedLogger('trace');
    tessera = await startTessera(config, { log: captured.log });
    const url = tessera.publicUrl;

    const token = keep(await adminToken(url, 'system', 'admin', ADMIN_PASSWORD));
    const api = adminClient(url, token);
    const tenantAdminPassword = keep('tenant-admin-password-1');
    expect((await api('POST', '/tenants', { slug: 'logs', name: 'Logs', admin: { username: 'boss', password: tenantAdminPassword } })).status).toBe(201);
    expect((await api('POST', '/tenants/logs/resources', { audience: 'https://api.example.org', name: 'API', scopes: ['read'] })).status).toBe(201);
    expect((await api('POST', '/tenants/logs/roles', { name: 'reader', permissions: [{ resource: 'https://api.example.org', scope: 'read' }] })).status).toBe(
      201,
    );
    const userPassword = keep('user-password-secret-9');
    const user = await api('POST', '/tenants/logs/users', { username: 'ann', password: userPassword, roles: ['reader'] });
    expect(user.status).toBe(201);
    const newPassword = keep('user-password-changed-7');
    expect((await api('PATCH', `/tenants/logs/users/${user.body.id as string}`, { password: newPassword })).status).toBe(200);
    const machine = await api('POST', '/tenants/logs/clients', {
      name: 'job',
      grantTypes: ['client_credentials'],
      roles: ['reader'],
      defaultResource: 'https://api.example.org',
    });
    const app = await api('POST', '/tenants/logs/clients', {
      name: 'app',
      grantTypes: ['password', 'refresh_token'],
      defaultResource: 'https://api.example.org',
    });
    const machineAuth = { clientId: machine.body.clientId as string, clientSecret: keep(machine.body.clientSecret) };
    const appAuth = { clientId: app.body.clientId as string, clientSecret: keep(app.body.clientSecret) };
    const rotated = await api('POST', `/tenants/logs/clients/${machineAuth.clientId}/secret`);
    keep(rotated.body.clientSecret);

    const disco = await discover(url, 'logs');
    const cookie = keep('session-cookie-value-1234');
    const cc = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials' }, machineAuth, { cookie: `_session=${cookie}` });
    expect(cc.status).toBe(200);
    keep(cc.body.access_token);
    const pw = await tokenRequest(disco.token_endpoint!, { grant_type: 'password', username: 'ann', password: newPassword }, appAuth, {
      'x-request-id': 'trace-me-1',
    });
    expect(pw.status).toBe(200);
    keep(pw.body.access_token);
    const refreshed = await tokenRequest(disco.token_endpoint!, { grant_type: 'refresh_token', refresh_token: keep(pw.body.refresh_token) }, appAuth);
    expect(refreshed.status).toBe(200);
    keep(refreshed.body.access_token);
    keep(refreshed.body.refresh_token);
    // failures: wrong password, bad client secret, reused refresh token, bad admin token, secret in the query string
    const wrong = keep('definitely-the-wrong-password');
    expect((await tokenRequest(disco.token_endpoint!, { grant_type: 'password', username: 'ann', password: wrong }, appAuth)).status).toBe(400);
    const badSecret = keep('not-the-client-secret-xyz');
    expect((await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials' }, { ...machineAuth, clientSecret: badSecret })).status).toBe(401);
    expect((await tokenRequest(disco.token_endpoint!, { grant_type: 'refresh_token', refresh_token: pw.body.refresh_token as string }, appAuth)).status).toBe(
      400,
    );
    const forged = keep('eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.forged-signature');
    expect((await adminClient(url, forged)('GET', '/tenants/logs')).status).toBe(401);
    const inQuery = keep('query-string-secret-42');
    await fetch(`${url}/t/logs/token?client_secret=${inQuery}&password=${inQuery}`, { method: 'POST' });
    await fetch(`${url}/admin/tenants?access_token=${inQuery}`);
    // introspection and revocation carry tokens in their bodies
    expect((await tokenRequest(disco.introspection_endpoint!, { token: cc.body.access_token as string }, machineAuth)).status).toBe(200);
    const revoked = await fetch(disco.revocation_endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${appAuth.clientId}:${appAuth.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: refreshed.body.refresh_token as string }),
    });
    expect(revoked.status).toBe(200);
    // a failing admin request that echoes a password back in its error
    expect((await api('POST', '/tenants/logs/users', { username: 'ann', password: keep('duplicate-user-password'), roles: [] })).status).toBe(409);
  });
  afterAll(async () => {
    await tessera?.close();
    await database?.drop();
  });

  it('logs one JSON line per request with id, tenant, route, status and duration', () => {
    const lines = captured
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(15);
    const traced = requests.find((l) => l.requestId === 'trace-me-1');
    expect(traced).toMatchObject({ method: 'POST', tenant: 'logs', route: '/t/:tenant/token', status: 200, level: 30 });
    expect(typeof traced!.durationMs).toBe('number');
    const admin = requests.find((l) => l.route === '/admin/tenants/:t/users/:id');
    expect(admin).toMatchObject({ method: 'PATCH', status: 200 });
    expect(requests.every((l) => typeof l.requestId === 'string' && typeof l.status === 'number')).toBe(true);
  });

  it('never logs a password, secret, token or cookie value', () => {
    expect(secrets.size).toBeGreaterThan(15);
    for (const secret of secrets) {
      expect(captured.text().includes(secret), `a credential (${secret.slice(0, 6)}…) reached the logs`).toBe(false);
      // nor any long piece of one (a token cut up or re-encoded)
      if (secret.length > 40) expect(captured.text().includes(secret.slice(10, 40))).toBe(false);
    }
    expect(captured.text()).not.toMatch(/authorization|cookie/i);
  });
});

describe('the logger', () => {
  it('censors credential-named keys at any depth and level, and drops stacks', () => {
    const { log, text } = capturedLogger('trace');
    const values = ['pw-1-secret', 'cs-2-secret', 'rt-3-secret', 'auth-4-secret', 'cookie-5-secret', 'assert-6-secret', 'deep-7-secret'];
    log.trace({ body: { password: values[0], client: { client_secret: values[1] } }, form: [{ refresh_token: values[2] }] }, 'a');
    log.debug({ req: { headers: { Authorization: `Bearer ${values[3]}`, Cookie: values[4] } } }, 'b');
    log.info({ client_assertion: values[5], a: { b: { c: { d: { e: { newPassword: values[6] } } } } } }, 'c');
    log.error({ err: new Error('boom') }, 'd');
    const out = text();
    for (const v of values) expect(out).not.toContain(v);
    expect(out).toContain('[redacted]');
    expect(out).toContain('boom');
    expect(out).not.toMatch(/at .*\.ts:\d+/); // no stack frames
  });
});
