/**
 * The admin flow of CONTRACT §5 end to end, as a health department would run it: platform admin
 * token → tenant with its admin → tenant admin token → resources, roles, users, clients → tokens
 * whose roles and scopes follow the assignments; changes honoured by the very next request.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { adminClient, adminToken } from './helpers.ts';

const API = 'https://epi.health-a.example/api';

describe.each(BACKENDS)('admin flow on %s', (backend) => {
  let server: TestServer;
  let platform: ReturnType<typeof adminClient>;
  let tenantAdmin: ReturnType<typeof adminClient>;
  let tokenEndpoint: string;

  beforeAll(async () => {
    server = await startTestServer(backend, { CLIENT_SECRET_GRACE_SECONDS: '2' });
    platform = adminClient(server.url, await adminToken(server.url, 'system', 'admin', ADMIN_PASSWORD));
  });
  afterAll(() => server?.stop());

  it('creates a tenant with its first tenant admin', async () => {
    const res = await platform('POST', '/tenants', { slug: 'health-a', name: 'Health A', admin: { username: 'hadmin', password: 'health-a-admin-pw' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ slug: 'health-a', name: 'Health A', issuer: `${server.url}/t/health-a` });
    const got = await platform('GET', '/tenants/health-a');
    expect(got.status).toBe(200);
    expect(got.body.issuer).toBe(`${server.url}/t/health-a`);
    tenantAdmin = adminClient(server.url, await adminToken(server.url, 'health-a', 'hadmin', 'health-a-admin-pw'));
    tokenEndpoint = (await discover(server.url, 'health-a')).token_endpoint!;
  });

  it('lets the tenant admin set up resources, roles, users and clients', async () => {
    const resource = await tenantAdmin('POST', '/tenants/health-a/resources', { audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'], accessTokenTtl: 900 });
    expect(resource.status).toBe(201);
    expect(resource.body).toMatchObject({ audience: API, scopes: ['outbreaks:read', 'simulate:run'], accessTokenTtl: 900 });
    const analyst = await tenantAdmin('POST', '/tenants/health-a/roles', {
      name: 'analyst',
      permissions: [{ resource: API, scope: 'outbreaks:read' }, { resource: API, scope: 'simulate:run' }],
    });
    expect(analyst.status).toBe(201);
    expect((await tenantAdmin('POST', '/tenants/health-a/roles', { name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] })).status).toBe(201);

    const user = await tenantAdmin('POST', '/tenants/health-a/users', { username: 'ann', password: 'ann-password-1', email: 'ann@health-a.example', roles: ['analyst'] });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({ username: 'ann', roles: ['analyst'] });
    expect(JSON.stringify(user.body)).not.toContain('ann-password-1');

    const staffApp = await tenantAdmin('POST', '/tenants/health-a/clients', { name: 'dashboard', grantTypes: ['password', 'refresh_token'], defaultResource: API });
    expect(staffApp.status).toBe(201);
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', { name: 'nightly job', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
    expect(job.status).toBe(201);
    expect(typeof job.body.clientSecret).toBe('string');

    // the created clients obtain tokens whose roles and scopes follow the assignments
    const staff = { clientId: staffApp.body.clientId as string, clientSecret: staffApp.body.clientSecret as string };
    const signIn = await tokenRequest(tokenEndpoint, { grant_type: 'password', username: 'ann', password: 'ann-password-1' }, staff);
    expect(signIn.status).toBe(200);
    expect(decodeJwt(signIn.body.access_token as string)).toMatchObject({ aud: API, roles: ['analyst'], scope: 'outbreaks:read simulate:run', tenant_id: 'health-a' });
    const machine = { clientId: job.body.clientId as string, clientSecret: job.body.clientSecret as string };
    const cc = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, machine);
    expect(cc.status).toBe(200);
    expect(decodeJwt(cc.body.access_token as string)).toMatchObject({ sub: machine.clientId, roles: ['viewer'], scope: 'outbreaks:read', exp: expect.any(Number) });
    expect(cc.body.expires_in).toBe(900);

    // secrets are never listed
    const list = await tenantAdmin('GET', '/tenants/health-a/clients');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(machine.clientSecret);
  });

  it('applies changes at the very next token request', async () => {
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', { name: 'changing', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
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

  it('rotates a client secret with a grace period', async () => {
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', { name: 'rotating', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
    const clientId = job.body.clientId as string;
    const oldSecret = job.body.clientSecret as string;
    const rotated = await tenantAdmin('POST', `/tenants/health-a/clients/${clientId}/secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.clientSecret as string;
    expect(newSecret).not.toBe(oldSecret);
    const use = (clientSecret: string) => tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, { clientId, clientSecret });
    expect((await use(newSecret)).status).toBe(200);
    // twice: the second is answered from the remembered verification, which must end with the grace
    expect((await use(oldSecret)).status).toBe(200);
    expect((await use(oldSecret)).status).toBe(200);
    // the grace period of this server is 2 s
    await new Promise((r) => setTimeout(r, 2500));
    expect((await use(oldSecret)).status).toBe(401);
    expect((await use(newSecret)).status).toBe(200);
  });

  it('rotates signing keys: the next key is published before it signs, the old one stays', async () => {
    const jwks = async () => ((await (await fetch(`${server.url}/t/health-a/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = await jwks();
    expect(before).toHaveLength(2); // active + next
    const keys = await tenantAdmin('GET', '/tenants/health-a/keys');
    const next = keys.body.items!.find((k) => k.state === 'next')!.kid as string;
    const oldActive = keys.body.items!.find((k) => k.state === 'active')!.kid as string;
    const rotated = await tenantAdmin('POST', '/tenants/health-a/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.kid).toBe(next);
    const after = await jwks();
    expect(after).toContain(next);
    expect(after).toContain(oldActive); // still published until its tokens expire
    expect(after).toHaveLength(3);
    const job = await tenantAdmin('POST', '/tenants/health-a/clients', { name: 'after rotation', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
    const cc = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials' }, { clientId: job.body.clientId as string, clientSecret: job.body.clientSecret as string });
    const { decodeProtectedHeader } = await import('jose');
    expect(decodeProtectedHeader(cc.body.access_token as string).kid).toBe(next);
    const state = await tenantAdmin('GET', '/tenants/health-a/keys');
    const retired = state.body.items!.find((k) => k.kid === oldActive)!;
    expect(retired.state).toBe('retired');
    expect(Date.parse(retired.publishedUntil as string)).toBeGreaterThan(Date.now() + 3600_000);
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

  it('writes an audit event for every change, in the same transaction, without secrets', async () => {
    const prisma = server.tessera.db.prisma;
    const tenant = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'health-a' } });
    const events = await prisma.auditEvent.findMany({ where: { tenantId: tenant.id } });
    const types = new Set(events.map((e) => e.type));
    for (const t of ['tenant.created', 'resource.created', 'role.created', 'role.updated', 'user.created', 'client.created', 'client.updated', 'client.deleted', 'client.secret_rotated', 'keys.rotated']) {
      expect(types.has(t), t).toBe(true);
    }
    const mine = events.filter((e) => e.type === 'user.created');
    expect(mine.every((e) => e.actor.startsWith('user:') && e.requestId)).toBe(true);
    expect(JSON.stringify(events.map(({ id: _id, ...e }) => e))).not.toContain('password');
  });
});
