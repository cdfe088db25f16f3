/**
 * The admin flow of CONTRACT §5 end to end, as a health department would run it: platform admin
 * token → tenant with its admin → tenant admin token → resources, roles, users, clients → tokens
 * whose roles and scopes follow the assignments; changes honoured by the very next request.
 *
 * Nothing here waits for time to pass: the client-secret grace ends on a fake in-process clock
 * (the server runs in this process) and in the database, a retired key's publication window ends
 * in the database, and the tenant cache is made to reload by a version bump, as another instance's
 * change would.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../../src/verifier/index.ts';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { adminClient, adminToken, type ApiResponse } from './helpers.ts';

const API = 'https://epi.health-a.example/api';

describe.each(BACKENDS)('admin flow on %s', (backend) => {
  let server: TestServer;
  let platform: ReturnType<typeof adminClient>;
  let tenantAdmin: ReturnType<typeof adminClient>;
  let tenantAdminToken: string;
  let tokenEndpoint: string;
  let introspectionEndpoint: string;
  /** every password sent to the admin API and every secret it returned, for the audit search */
  const secrets = new Set<string>([ADMIN_PASSWORD]);
  /** an admin API client that remembers the secrets going through it */
  const recording =
    (api: ReturnType<typeof adminClient>): ReturnType<typeof adminClient> =>
    async (method, path, body, headers) => {
      const sent = body as { password?: unknown; admin?: { password?: unknown } } | undefined;
      for (const secret of [sent?.password, sent?.admin?.password]) if (typeof secret === 'string') secrets.add(secret);
      const res = await api(method, path, body, headers);
      if (typeof res.body.clientSecret === 'string') secrets.add(res.body.clientSecret);
      return res;
    };
  const confidential = (res: ApiResponse) => ({ clientId: res.body.clientId as string, clientSecret: res.body.clientSecret as string });
  const introspect = async (token: string, client: { clientId: string; clientSecret: string }) => {
    const res = await tokenRequest(introspectionEndpoint, { token }, client);
    expect(res.status).toBe(200);
    return res.body.active;
  };
  const tenantId = async () => (await server.tessera.db.prisma.tenant.findUniqueOrThrow({ where: { slug: 'health-a' } })).id;
  /**
   * what another instance's change looks like to this one: the tenant's version moved on. The
   * pool's version check (run every TENANT_CACHE_MAX_STALENESS by the server) is run now.
   */
  const reloadTenant = async () => {
    await server.tessera.db.prisma.tenant.update({ where: { slug: 'health-a' }, data: { version: { increment: 1 } } });
    expect(await server.tessera.pool.refresh()).toBeGreaterThanOrEqual(1);
  };

  beforeAll(async () => {
    server = await startTestServer(backend);
    platform = recording(adminClient(server.url, await adminToken(server.url, 'system', 'admin', ADMIN_PASSWORD)));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(() => server?.stop());

  it('creates a tenant with its first tenant admin', async () => {
    const res = await platform('POST', '/tenants', { slug: 'health-a', name: 'Health A', admin: { username: 'hadmin', password: 'health-a-admin-pw' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ slug: 'health-a', name: 'Health A', issuer: `${server.url}/t/health-a` });
    const got = await platform('GET', '/tenants/health-a');
    expect(got.status).toBe(200);
    expect(got.body.issuer).toBe(`${server.url}/t/health-a`);
    tenantAdminToken = await adminToken(server.url, 'health-a', 'hadmin', 'health-a-admin-pw');
    tenantAdmin = recording(adminClient(server.url, tenantAdminToken));
    const disco = await discover(server.url, 'health-a');
    tokenEndpoint = disco.token_endpoint!;
    introspectionEndpoint = disco.introspection_endpoint!;
  });

  it('lets the tenant admin set up resources, roles, users and clients', async () => {
    const resource = await tenantAdmin('POST', '/tenants/health-a/resources', {
      audience: API,
      name: 'Epidemic model',
      scopes: ['outbreaks:read', 'simulate:run'],
      accessTokenTtl: 900,
    });
    expect(resource.status).toBe(201);
    expect(resource.body).toMatchObject({ audience: API, scopes: ['outbreaks:read', 'simulate:run'], accessTokenTtl: 900 });
    const analyst = await tenantAdmin('POST', '/tenants/health-a/roles', {
      name: 'analyst',
      permissions: [
        { resource: API, scope: 'outbreaks:read' },
        { resource: API, scope: 'simulate:run' },
      ],
    });
    expect(analyst.status).toBe(201);
    expect((await tenantAdmin('POST', '/tenants/health-a/roles', { name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] })).status).toBe(
      201,
    );

    const user = await tenantAdmin('POST', '/tenants/health-a/users', {
      username: 'ann',
      password: 'ann-password-1',
      email: 'ann@health-a.example',
      roles: ['analyst'],
    });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({ username: 'ann', roles: ['analyst'] });
    expect(JSON.stringify(user.body)).not.toContain('ann-password-1');

    const staffApp = await tenantAdmin('POST', '/tenants/health-a/clients', {
      name: 'dashboard',
      grantTypes: ['password', 'refresh_token'],
      defaultResource: API,
    });
    expect(staffApp.status).toBe(201);
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', {
      name: 'nightly job',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
    });
    expect(job.status).toBe(201);
    expect(typeof job.body.clientSecret).toBe('string');

    // the created clients obtain tokens whose roles and scopes follow the assignments
    const staff = { clientId: staffApp.body.clientId as string, clientSecret: staffApp.body.clientSecret as string };
    const signIn = await tokenRequest(tokenEndpoint, { grant_type: 'password', username: 'ann', password: 'ann-password-1' }, staff);
    expect(signIn.status).toBe(200);
    expect(decodeJwt(signIn.body.access_token as string)).toMatchObject({
      aud: API,
      roles: ['analyst'],
      scope: 'outbreaks:read simulate:run',
      tenant_id: 'health-a',
    });
    const machine = { clientId: job.body.clientId as string, clientSecret: job.body.clientSecret as string };
    const cc = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, machine);
    expect(cc.status).toBe(200);
    expect(decodeJwt(cc.body.access_token as string)).toMatchObject({
      sub: machine.clientId,
      roles: ['viewer'],
      scope: 'outbreaks:read',
      exp: expect.any(Number),
    });
    expect(cc.body.expires_in).toBe(900);

    // secrets are never listed
    const list = await tenantAdmin('GET', '/tenants/health-a/clients');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(machine.clientSecret);
  });

  it('applies changes at the very next token request', async () => {
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', {
      name: 'changing',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
    });
    const creds = { clientId: job.body.clientId as string, clientSecret: job.body.clientSecret as string };
    expect((await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, creds)).status).toBe(200);
    // a changed role
    await tenantAdmin('PATCH', `/tenants/health-a/clients/${creds.clientId}`, { roles: ['analyst'] });
    const after = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, creds);
    expect(decodeJwt(after.body.access_token as string)).toMatchObject({ roles: ['analyst'], scope: 'outbreaks:read simulate:run' });
    // a role whose permissions change
    const patched = await tenantAdmin('PATCH', '/tenants/health-a/roles/analyst', { permissions: [{ resource: API, scope: 'simulate:run' }] });
    expect(patched.status).toBe(200);
    const narrowed = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, creds);
    expect(decodeJwt(narrowed.body.access_token as string).scope).toBe('simulate:run');
    // a deleted client
    expect((await tenantAdmin('DELETE', `/tenants/health-a/clients/${creds.clientId}`)).status).toBe(204);
    const gone = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, creds);
    expect(gone.status).toBe(401);
    expect(gone.body.error).toBe('invalid_client');
  });

  it('rotates a client secret with a grace period (24 h by default) that really ends', async () => {
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', {
      name: 'rotating',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
    });
    const clientId = job.body.clientId as string;
    const oldSecret = job.body.clientSecret as string;
    const rotatedAt = Date.now();
    const rotated = await tenantAdmin('POST', `/tenants/health-a/clients/${clientId}/secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.clientSecret as string;
    expect(newSecret).not.toBe(oldSecret);
    const graceEnds = Date.parse(rotated.body.previousSecretExpiresAt as string);
    expect(graceEnds).toBeGreaterThanOrEqual(rotatedAt + 86_400_000);
    expect(graceEnds).toBeLessThanOrEqual(Date.now() + 86_400_000);
    // the stored end of the old secret's grace is the one announced
    const stored = await server.tessera.db.prisma.clientSecret.findMany({ where: { client: { clientId } }, orderBy: { createdAt: 'asc' } });
    expect(stored.map((s) => s.expiresAt?.getTime() ?? null)).toEqual([graceEnds, null]);

    const use = async (clientSecret: string) => (await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, { clientId, clientSecret })).status;
    expect(await use(newSecret)).toBe(200);
    // twice: the second is answered from the remembered verification, which must end with the grace
    expect(await use(oldSecret)).toBe(200);
    expect(await use(oldSecret)).toBe(200);

    // the server runs in this process: its clock jumps to a minute before the grace ends, then past it
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(graceEnds - 60_000);
    expect(await use(oldSecret)).toBe(200);
    vi.setSystemTime(graceEnds + 1);
    const refused = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, { clientId, clientSecret: oldSecret });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(await use(newSecret)).toBe(200);
    vi.useRealTimers();

    // back in real time the old secret is inside its grace again; when the stored grace has ended
    // (moved into the past in the database) and the tenant is reloaded, it is refused for good
    expect(await use(oldSecret)).toBe(200);
    await server.tessera.db.prisma.clientSecret.update({ where: { id: stored[0]!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await reloadTenant();
    expect(await use(oldSecret)).toBe(401);
    expect(await use(newSecret)).toBe(200);
  });

  it('rotates signing keys: the next key is published before it signs, the old one until its tokens expired, then removed', async () => {
    const jwks = async () => ((await (await fetch(`${server.url}/t/health-a/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = await jwks();
    expect(before).toHaveLength(2); // active + next
    const keys = await tenantAdmin('GET', '/tenants/health-a/keys');
    const next = keys.body.items!.find((k) => k.state === 'next')!.kid as string;
    const oldActive = keys.body.items!.find((k) => k.state === 'active')!.kid as string;
    expect(before.sort()).toEqual([next, oldActive].sort());
    // tokens signed by the key about to retire: a machine token, and the tenant admin's own
    const job = confidential(
      await tenantAdmin('POST', '/tenants/health-a/clients', {
        name: 'key watcher',
        grantTypes: ['client_credentials'],
        roles: ['viewer'],
        defaultResource: API,
      }),
    );
    const oldToken = (await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, job)).body.access_token as string;
    expect(decodeProtectedHeader(oldToken).kid).toBe(oldActive);
    expect(decodeProtectedHeader(tenantAdminToken).kid).toBe(oldActive);

    const rotatedAt = Date.now();
    const rotated = await tenantAdmin('POST', '/tenants/health-a/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.kid).toBe(next);
    const after = await jwks();
    expect(after).toContain(next);
    expect(after).toContain(oldActive); // still published until its tokens expire
    expect(after).toHaveLength(3);
    const cc = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, job);
    const newToken = cc.body.access_token as string;
    expect(decodeProtectedHeader(newToken).kid).toBe(next);
    const state = await tenantAdmin('GET', '/tenants/health-a/keys');
    const retired = state.body.items!.find((k) => k.kid === oldActive)!;
    expect(retired.state).toBe('retired');
    // published for the tenant's longest access-token lifetime (at least an hour) plus a minute
    const publishedUntil = Date.parse(retired.publishedUntil as string);
    expect(publishedUntil).toBeGreaterThanOrEqual(rotatedAt + 3_660_000);
    expect(publishedUntil).toBeLessThanOrEqual(Date.now() + 3_660_000);

    // the old key's tokens still verify: at Tessera, at the admin API and in a downstream API
    const verifier = () => createVerifier({ issuer: `${server.url}/t/health-a`, audience: API });
    await expect(verifier().verify(oldToken)).resolves.toMatchObject({ protectedHeader: { kid: oldActive } });
    expect(await introspect(oldToken, job)).toBe(true);
    expect((await adminClient(server.url, tenantAdminToken)('GET', '/tenants/health-a')).status).toBe(200);

    // time travel: the publication window has a minute left, and every instance has reloaded
    const id = await tenantId();
    const moveWindow = (seconds: number) =>
      server.tessera.db.prisma.signingKey.update({
        where: { tenantId_kid: { tenantId: id, kid: oldActive } },
        data: { publishedUntil: new Date(Date.now() + seconds * 1000) },
      });
    await moveWindow(60);
    await reloadTenant();
    expect(await jwks()).toContain(oldActive);
    expect(await introspect(oldToken, job)).toBe(true);
    // and now it has passed: the old key leaves JWKS, the new ones stay
    await moveWindow(-1);
    await reloadTenant();
    const removed = await jwks();
    expect(removed).not.toContain(oldActive);
    expect(removed).toContain(next);
    expect(removed).toHaveLength(2);
    // tokens it signed no longer verify anywhere, though they have not expired
    expect(decodeJwt(oldToken).exp! * 1000).toBeGreaterThan(Date.now());
    expect(await introspect(oldToken, job)).toBe(false);
    await expect(verifier().verify(oldToken)).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN', status: 401 });
    const oldAdmin = await adminClient(server.url, tenantAdminToken)('GET', '/tenants/health-a');
    expect(oldAdmin.status).toBe(401);
    expect(oldAdmin.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // tokens of the new key do
    expect(await introspect(newToken, job)).toBe(true);
    await expect(verifier().verify(newToken)).resolves.toBeTruthy();
    tenantAdminToken = await adminToken(server.url, 'health-a', 'hadmin', 'health-a-admin-pw');
    expect(decodeProtectedHeader(tenantAdminToken).kid).toBe(next);
    tenantAdmin = recording(adminClient(server.url, tenantAdminToken));
    const listed = await tenantAdmin('GET', '/tenants/health-a/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.items!.map((k) => k.kid)).not.toContain(oldActive);
  });

  it('paginates lists with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await tenantAdmin('POST', '/tenants/health-a/users', { username: `page-user-${i}`, password: 'page-user-password', roles: [] });
    }
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await tenantAdmin('GET', `/tenants/health-a/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items!.length).toBeLessThanOrEqual(2);
      for (const u of res.body.items!) seen.add(u.username as string);
      cursor = res.body.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 5; i++) expect(seen.has(`page-user-${i}`)).toBe(true);
  });

  /** a trigger that makes the database refuse the matching statement, for the duration of `fn` */
  const refusing = async <T>(table: 'audit_events' | 'tenants', event: 'INSERT' | 'UPDATE', when: string, fn: () => Promise<T>): Promise<T> => {
    const prisma = server.tessera.db.prisma;
    await prisma.$executeRawUnsafe(
      `CREATE OR REPLACE FUNCTION tessera_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test trigger'; END $$`,
    );
    await prisma.$executeRawUnsafe(
      `CREATE TRIGGER tessera_test_refuse BEFORE ${event} ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION tessera_test_refuse()`,
    );
    try {
      return await fn();
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER tessera_test_refuse ON ${table}`);
    }
  };
  const expectUnavailableProblem = (res: ApiResponse) => {
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.body).toMatchObject({ type: 'urn:tessera:problem:unavailable', status: 503, title: expect.any(String), detail: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/refused by the test trigger|audit_events|tenants|prisma|trigger|at .*\.ts:\d+|\bstack\b/i);
  };
  const auditCount = async (type: string, target: string) => server.tessera.db.prisma.auditEvent.count({ where: { tenantId: await tenantId(), type, target } });

  it('rolls a change back with its audit event when the database refuses the audit row', async () => {
    const created = await tenantAdmin('POST', '/tenants/health-a/users', { username: 'rolf', password: 'rolf-first-password', roles: ['viewer'] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    secrets.add('rolf-second-password');
    // the user's row is updated first, in the same transaction; then the audit row is refused
    const res = await refusing('audit_events', 'INSERT', `NEW.type = 'user.updated' AND NEW.target = '${id}'`, () =>
      tenantAdmin('PATCH', `/tenants/health-a/users/${id}`, { password: 'rolf-second-password', roles: ['analyst'] }),
    );
    expectUnavailableProblem(res);
    // nothing of the change remains: the roles and the password are the old ones, no audit event
    expect((await tenantAdmin('GET', `/tenants/health-a/users/${id}`)).body).toMatchObject({ roles: ['viewer'], disabled: false });
    const signIn = (password: string) =>
      tokenRequest(tokenEndpoint, { grant_type: 'password', client_id: 'admin-cli', username: 'rolf', password, resource: API });
    const old = await signIn('rolf-first-password');
    expect(old.status).toBe(200);
    expect(decodeJwt(old.body.access_token as string).roles).toEqual(['viewer']);
    expect((await signIn('rolf-second-password')).body.error).toBe('invalid_grant');
    expect(await auditCount('user.updated', id)).toBe(0);
    // the same change, the database willing, is made and audited
    const ok = await tenantAdmin('PATCH', `/tenants/health-a/users/${id}`, { password: 'rolf-second-password', roles: ['analyst'] });
    expect(ok.status).toBe(200);
    expect(await auditCount('user.updated', id)).toBe(1);
    expect((await signIn('rolf-second-password')).status).toBe(200);
  });

  it('rolls an audit event back with its change when the change fails after the event was written', async () => {
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', {
      name: 'steady',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
    });
    const clientId = job.body.clientId as string;
    // a client change writes the client, then its audit event, then raises the tenant's version:
    // the database refuses that last statement
    const res = await refusing('tenants', 'UPDATE', `NEW.version <> OLD.version AND NEW.slug = 'health-a'`, () =>
      tenantAdmin('PATCH', `/tenants/health-a/clients/${clientId}`, { name: 'renamed', roles: ['analyst'] }),
    );
    expectUnavailableProblem(res);
    expect((await tenantAdmin('GET', `/tenants/health-a/clients/${clientId}`)).body).toMatchObject({ name: 'steady', roles: ['viewer'] });
    expect(await auditCount('client.updated', clientId)).toBe(0);
    const cc = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, confidential(job));
    expect(decodeJwt(cc.body.access_token as string).roles).toEqual(['viewer']);
    // the database willing, the same change and its event are kept
    expect((await tenantAdmin('PATCH', `/tenants/health-a/clients/${clientId}`, { name: 'renamed', roles: ['analyst'] })).status).toBe(200);
    expect(await auditCount('client.updated', clientId)).toBe(1);
  });

  it('writes an audit event for every change, in the same transaction, without secrets', async () => {
    const prisma = server.tessera.db.prisma;
    const tenant = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'health-a' } });
    const events = await prisma.auditEvent.findMany({ where: { tenantId: tenant.id } });
    const types = new Set(events.map((e) => e.type));
    for (const t of [
      'tenant.created',
      'resource.created',
      'role.created',
      'role.updated',
      'user.created',
      'user.updated',
      'client.created',
      'client.updated',
      'client.deleted',
      'client.secret_rotated',
      'keys.rotated',
    ]) {
      expect(types.has(t), t).toBe(true);
    }
    const mine = events.filter((e) => e.type === 'user.created');
    expect(mine.every((e) => e.actor.startsWith('user:') && e.requestId)).toBe(true);

    // secrets typed where they do not belong are audited too (as failures): a password in the
    // username field, and a near miss of a real password
    for (const [username, password] of [
      ['ann-password-1', 'not-the-password'],
      ['ann', 'ann-password-2'],
    ] as const) {
      secrets.add(username === 'ann' ? password : username);
      const res = await tokenRequest(tokenEndpoint, { grant_type: 'password', client_id: 'admin-cli', username, password });
      expect(res.body.error).toBe('invalid_grant');
    }
    // every column of every audit row, of every tenant, as the database prints it
    const rows = await prisma.$queryRawUnsafe<{ row: string }[]>('SELECT e::text AS row FROM audit_events e');
    const text = rows.map((r) => r.row).join('\n');
    expect(text).toContain('signin.failure');
    // the search finds what is there: a column (the tenant id) and a value inside `data` (the audience)
    expect(text).toContain(tenant.id);
    expect(text).toContain(API);
    expect(secrets.size).toBeGreaterThanOrEqual(12);
    for (const secret of secrets) expect(text.includes(secret), `an audit row holds the secret ${secret.slice(0, 4)}…`).toBe(false);
  });
});
