/**
 * The admin API's authorization policy as a table (issue 13, finding 2): every actor kind × every
 * admin route × every kind of target, each cell's expected status written down. A `system`
 * tenant-admin used to reset a platform admin's password, rotate a platform client's secret and
 * demote platform admins; every such cell is a 403 now.
 *
 * Columns (actors):
 *   P    platform admin (user `admin` of `system`)
 *   ST   tenant-admin of `system` (user)
 *   DT   tenant-admin of `dept` (user)
 *   OT   tenant-admin of another tenant (user of `other`)
 *   NU   a plain user of `dept` whose role grants the admin scope but is no admin role
 *   CP   machine client of `system` holding platform-admin
 *   CST  machine client of `system` holding tenant-admin
 *   CT   machine client of `dept` holding tenant-admin
 *   CN   machine client of `dept` whose role grants the admin scope but is no admin role
 * Every mutating cell acts on a target created for it, so cells are independent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';

const ACTORS = ['P', 'ST', 'DT', 'OT', 'NU', 'CP', 'CST', 'CT', 'CN'] as const;
type ActorName = (typeof ACTORS)[number];

const API = 'https://epi.example.org/api';
const pw = (who: string) => `${who}-long-enough-password`;
const fresh = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

interface Services {
  user(tenant: string, roles: string[]): Promise<string>;
  client(tenant: string, roles: string[]): Promise<string>;
  role(tenant: string): Promise<string>;
  /** a role that a platform admin (created for it) holds */
  roleOfPlatformAdmin(tenant: string): Promise<string>;
  resource(tenant: string): Promise<string>;
  builtInResource(tenant: string): Promise<string>;
}

interface Row {
  /** what the row does, for the report */
  name: string;
  /** the request for one cell, on targets created for it */
  request(s: Services): Promise<{ method: string; path: string; body?: unknown }>;
  /** expected status per actor, in the order of ACTORS */
  expect: string;
}

// prettier-ignore
const ROWS: Row[] = [
  //                                                                                              P   ST  DT  OT  NU  CP  CST CT  CN
  {
    name: 'create a tenant',
    request: async () => ({ method: 'POST', path: '/tenants', body: { slug: fresh('t'), name: 'T' } }),
    expect: '201 403 403 403 403 201 403 403 403',
  },
  { name: 'list tenants', request: async () => ({ method: 'GET', path: '/tenants' }), expect: '200 403 403 403 403 200 403 403 403' },
  { name: 'read tenant system', request: async () => ({ method: 'GET', path: '/tenants/system' }), expect: '200 200 403 403 403 200 200 403 403' },
  { name: 'read tenant dept', request: async () => ({ method: 'GET', path: '/tenants/dept' }), expect: '200 403 200 403 403 200 403 200 403' },

  // system: users
  {
    name: 'system: create a plain user',
    request: async () => ({ method: 'POST', path: '/tenants/system/users', body: { username: fresh('u'), password: pw('u'), roles: [] } }),
    expect: '201 201 403 403 403 201 201 403 403',
  },
  {
    name: 'system: create a platform admin',
    request: async () => ({ method: 'POST', path: '/tenants/system/users', body: { username: fresh('u'), password: pw('u'), roles: ['platform-admin'] } }),
    expect: '201 403 403 403 403 201 403 403 403',
  },
  {
    name: 'system: read a platform admin',
    request: async (s) => ({ method: 'GET', path: `/tenants/system/users/${await s.user('system', ['platform-admin'])}` }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: "system: reset a platform admin's password",
    request: async (s) => ({
      method: 'PATCH',
      path: `/tenants/system/users/${await s.user('system', ['platform-admin'])}`,
      body: { password: pw('taken-over') },
    }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: "system: reset a platform admin's second factors",
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/users/${await s.user('system', ['platform-admin'])}/mfa` }),
    expect: '204 403 403 403 403 204 403 403 403',
  },
  {
    name: "system: reset a plain user's second factors",
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/users/${await s.user('system', [])}/mfa` }),
    expect: '204 204 403 403 403 204 204 403 403',
  },
  {
    name: 'system: set the MFA policy (it covers platform admins)',
    request: async () => ({ method: 'PATCH', path: '/tenants/system', body: { mfa: { require: 'none' } } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: rename the tenant',
    request: async () => ({ method: 'PATCH', path: '/tenants/system', body: { name: 'Platform' } }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: 'system: demote a platform admin',
    request: async (s) => ({
      method: 'PATCH',
      path: `/tenants/system/users/${await s.user('system', ['platform-admin', 'tenant-admin'])}`,
      body: { roles: ['tenant-admin'] },
    }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: disable a platform admin',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/users/${await s.user('system', ['platform-admin'])}`, body: { disabled: true } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: delete a platform admin',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/users/${await s.user('system', ['platform-admin'])}` }),
    expect: '204 403 403 403 403 204 403 403 403',
  },
  {
    name: "system: reset a plain user's password",
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/users/${await s.user('system', [])}`, body: { password: pw('reset') } }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: 'system: promote a plain user to platform admin',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/users/${await s.user('system', [])}`, body: { roles: ['platform-admin'] } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: make a plain user tenant admin',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/users/${await s.user('system', [])}`, body: { roles: ['tenant-admin'] } }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: 'system: delete a plain user',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/users/${await s.user('system', [])}` }),
    expect: '204 204 403 403 403 204 204 403 403',
  },

  // system: clients
  {
    name: 'system: create a platform-admin client',
    request: async () => ({
      method: 'POST',
      path: '/tenants/system/clients',
      body: { name: 'x', grantTypes: ['client_credentials'], roles: ['platform-admin'] },
    }),
    expect: '201 403 403 403 403 201 403 403 403',
  },
  {
    name: 'system: create a plain client',
    request: async () => ({ method: 'POST', path: '/tenants/system/clients', body: { name: 'x', grantTypes: ['client_credentials'] } }),
    expect: '201 201 403 403 403 201 201 403 403',
  },
  {
    name: "system: rotate a platform client's secret",
    request: async (s) => ({ method: 'POST', path: `/tenants/system/clients/${await s.client('system', ['platform-admin'])}/secret` }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: change a platform client',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/clients/${await s.client('system', ['platform-admin'])}`, body: { name: 'renamed' } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: "system: strip a platform client's role",
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/clients/${await s.client('system', ['platform-admin'])}`, body: { roles: [] } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: delete a platform client',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/clients/${await s.client('system', ['platform-admin'])}` }),
    expect: '204 403 403 403 403 204 403 403 403',
  },
  {
    name: "system: rotate a plain client's secret",
    request: async (s) => ({ method: 'POST', path: `/tenants/system/clients/${await s.client('system', [])}/secret` }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: 'system: change admin-cli',
    request: async () => ({ method: 'PATCH', path: '/tenants/system/clients/admin-cli', body: { name: 'Tessera admin CLI' } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: delete admin-cli',
    request: async () => ({ method: 'DELETE', path: '/tenants/system/clients/admin-cli' }),
    expect: '409 403 403 403 403 409 403 403 403',
  },

  // system: roles, keys, audit
  {
    name: 'system: describe platform-admin',
    request: async () => ({ method: 'PATCH', path: '/tenants/system/roles/platform-admin', body: { description: 'administers every tenant' } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: delete platform-admin',
    request: async () => ({ method: 'DELETE', path: '/tenants/system/roles/platform-admin' }),
    expect: '409 403 403 403 403 409 403 403 403',
  },
  {
    name: 'system: re-permission tenant-admin',
    request: async () => ({ method: 'PATCH', path: '/tenants/system/roles/tenant-admin', body: { permissions: [] } }),
    expect: '409 403 403 403 403 409 403 403 403',
  },
  {
    name: 'system: change a role a platform admin holds',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/system/roles/${await s.roleOfPlatformAdmin('system')}`, body: { permissions: [] } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'system: delete a role a platform admin holds',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/roles/${await s.roleOfPlatformAdmin('system')}` }),
    expect: '204 403 403 403 403 204 403 403 403',
  },
  {
    name: 'system: delete a role nobody protected holds',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/system/roles/${await s.role('system')}` }),
    expect: '204 204 403 403 403 204 204 403 403',
  },
  {
    name: 'system: rotate keys',
    request: async () => ({ method: 'POST', path: '/tenants/system/keys/rotate' }),
    expect: '200 200 403 403 403 200 200 403 403',
  },
  {
    name: 'system: read the audit trail',
    request: async () => ({ method: 'GET', path: '/tenants/system/audit-events' }),
    expect: '200 200 403 403 403 200 200 403 403',
  },

  // dept: resources
  {
    name: 'dept: create a resource',
    request: async () => ({
      method: 'POST',
      path: '/tenants/dept/resources',
      body: { audience: `https://${fresh('api')}.example/`, name: 'x', scopes: ['a'] },
    }),
    expect: '201 403 201 403 403 201 403 201 403',
  },
  { name: 'dept: list resources', request: async () => ({ method: 'GET', path: '/tenants/dept/resources' }), expect: '200 403 200 403 403 200 403 200 403' },
  {
    name: 'dept: read the admin resource',
    request: async (s) => ({ method: 'GET', path: `/tenants/dept/resources/${await s.builtInResource('dept')}` }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: change the admin resource',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/resources/${await s.builtInResource('dept')}`, body: { accessTokenTtl: 3600 } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'dept: delete the admin resource',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/resources/${await s.builtInResource('dept')}` }),
    expect: '409 403 403 403 403 409 403 403 403',
  },
  {
    name: 'dept: change a resource',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/resources/${await s.resource('dept')}`, body: { name: 'renamed' } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: delete a resource',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/resources/${await s.resource('dept')}` }),
    expect: '204 403 204 403 403 204 403 204 403',
  },

  // dept: roles
  {
    name: 'dept: create a role',
    request: async () => ({
      method: 'POST',
      path: '/tenants/dept/roles',
      body: { name: fresh('r'), permissions: [{ resource: API, scope: 'outbreaks:read' }] },
    }),
    expect: '201 403 201 403 403 201 403 201 403',
  },
  { name: 'dept: list roles', request: async () => ({ method: 'GET', path: '/tenants/dept/roles' }), expect: '200 403 200 403 403 200 403 200 403' },
  {
    name: 'dept: read tenant-admin',
    request: async () => ({ method: 'GET', path: '/tenants/dept/roles/tenant-admin' }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: describe tenant-admin',
    request: async () => ({ method: 'PATCH', path: '/tenants/dept/roles/tenant-admin', body: { description: 'administers this tenant' } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: 'dept: delete tenant-admin',
    request: async () => ({ method: 'DELETE', path: '/tenants/dept/roles/tenant-admin' }),
    expect: '409 403 403 403 403 409 403 403 403',
  },
  {
    name: 'dept: change a role',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/roles/${await s.role('dept')}`, body: { description: 'changed' } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: delete a role',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/roles/${await s.role('dept')}` }),
    expect: '204 403 204 403 403 204 403 204 403',
  },

  // dept: users
  {
    name: 'dept: create a user',
    request: async () => ({ method: 'POST', path: '/tenants/dept/users', body: { username: fresh('u'), password: pw('u'), roles: ['viewer'] } }),
    expect: '201 403 201 403 403 201 403 201 403',
  },
  {
    name: 'dept: create a user with platform-admin',
    request: async () => ({ method: 'POST', path: '/tenants/dept/users', body: { username: fresh('u'), password: pw('u'), roles: ['platform-admin'] } }),
    expect: '400 403 403 403 403 400 403 403 403',
  },
  { name: 'dept: list users', request: async () => ({ method: 'GET', path: '/tenants/dept/users' }), expect: '200 403 200 403 403 200 403 200 403' },
  {
    name: 'dept: read a user',
    request: async (s) => ({ method: 'GET', path: `/tenants/dept/users/${await s.user('dept', [])}` }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: "dept: reset a user's password",
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/users/${await s.user('dept', [])}`, body: { password: pw('reset') } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: "dept: change a user's roles",
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/users/${await s.user('dept', ['viewer'])}`, body: { roles: ['tenant-admin'] } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: "dept: reset a user's second factors",
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/users/${await s.user('dept', [])}/mfa` }),
    expect: '204 403 204 403 403 204 403 204 403',
  },
  {
    name: 'dept: rename the tenant and set its MFA policy',
    request: async () => ({ method: 'PATCH', path: '/tenants/dept', body: { name: 'Department', mfa: { require: 'none' } } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: disable a user',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/users/${await s.user('dept', [])}`, body: { disabled: true } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: delete a user',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/users/${await s.user('dept', [])}` }),
    expect: '204 403 204 403 403 204 403 204 403',
  },
  {
    name: "dept: reset another tenant admin's password",
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/users/${await s.user('dept', ['tenant-admin'])}`, body: { password: pw('peer') } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },

  // dept: clients
  {
    name: 'dept: create a client',
    request: async () => ({ method: 'POST', path: '/tenants/dept/clients', body: { name: 'x', grantTypes: ['client_credentials'], roles: ['viewer'] } }),
    expect: '201 403 201 403 403 201 403 201 403',
  },
  { name: 'dept: list clients', request: async () => ({ method: 'GET', path: '/tenants/dept/clients' }), expect: '200 403 200 403 403 200 403 200 403' },
  {
    name: 'dept: read admin-cli',
    request: async () => ({ method: 'GET', path: '/tenants/dept/clients/admin-cli' }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: change a client',
    request: async (s) => ({ method: 'PATCH', path: `/tenants/dept/clients/${await s.client('dept', [])}`, body: { name: 'renamed' } }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: "dept: rotate a client's secret",
    request: async (s) => ({ method: 'POST', path: `/tenants/dept/clients/${await s.client('dept', ['viewer'])}/secret` }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
  {
    name: 'dept: delete a client',
    request: async (s) => ({ method: 'DELETE', path: `/tenants/dept/clients/${await s.client('dept', [])}` }),
    expect: '204 403 204 403 403 204 403 204 403',
  },
  {
    name: 'dept: change admin-cli',
    request: async () => ({ method: 'PATCH', path: '/tenants/dept/clients/admin-cli', body: { redirectUris: ['https://evil.example/'] } }),
    expect: '200 403 403 403 403 200 403 403 403',
  },
  {
    name: "dept: rotate admin-cli's secret",
    request: async () => ({ method: 'POST', path: '/tenants/dept/clients/admin-cli/secret' }),
    expect: '409 403 403 403 403 409 403 403 403',
  },
  {
    name: 'dept: delete admin-cli',
    request: async () => ({ method: 'DELETE', path: '/tenants/dept/clients/admin-cli' }),
    expect: '409 403 403 403 403 409 403 403 403',
  },

  // dept: keys, audit
  { name: 'dept: list keys', request: async () => ({ method: 'GET', path: '/tenants/dept/keys' }), expect: '200 403 200 403 403 200 403 200 403' },
  { name: 'dept: rotate keys', request: async () => ({ method: 'POST', path: '/tenants/dept/keys/rotate' }), expect: '200 403 200 403 403 200 403 200 403' },
  {
    name: 'dept: read the audit trail',
    request: async () => ({ method: 'GET', path: '/tenants/dept/audit-events' }),
    expect: '200 403 200 403 403 200 403 200 403',
  },
];

describe.each(BACKENDS)('the authorization table on %s', (backend) => {
  let server: TestServer;
  const api = {} as Record<ActorName, ReturnType<typeof adminClient>>;
  let services: Services;

  beforeAll(async () => {
    server = await startTestServer(backend);
    const { url } = server;
    const s = server.tessera.services;
    const ids = new Map<string, string>();
    for (const slug of ['system', 'dept', 'other']) {
      const t = slug === 'system' ? await s.tenants.get('system') : await s.tenants.create({ slug, name: slug });
      ids.set(slug, t.id);
    }
    const on = (slug: string) => s.forTenant(ids.get(slug)!);
    const adminAudience = `${url}/admin`;
    await on('dept').resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'] });
    await on('dept').roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    // a role that grants the admin scope without being an admin role
    await on('dept').roles.create({ name: 'auditor', permissions: [{ resource: adminAudience, scope: 'admin' }] });
    await on('system').users.create({ username: 'sysop', password: pw('sysop'), roles: ['tenant-admin'] });
    await on('dept').users.create({ username: 'boss', password: pw('boss'), roles: ['tenant-admin'] });
    await on('other').users.create({ username: 'otto', password: pw('otto'), roles: ['tenant-admin'] });
    await on('dept').users.create({ username: 'nick', password: pw('nick'), roles: ['auditor'] });
    const machine = async (slug: string, roles: string[]) => {
      const c = await on(slug).clients.create({
        name: `machine ${roles.join(',')}`,
        grantTypes: ['client_credentials'],
        roles,
        defaultResource: adminAudience,
      });
      const res = await tokenRequest(
        (await discover(url, slug)).token_endpoint!,
        { grant_type: 'client_credentials' },
        c as { clientId: string; clientSecret: string },
      );
      if (res.status !== 200) throw new Error(`machine token ${slug} ${roles}: ${res.status} ${JSON.stringify(res.body)}`);
      return adminClient(url, res.body.access_token as string);
    };
    api.P = adminClient(url, await adminToken(url, 'system', 'admin', ADMIN_PASSWORD));
    api.ST = adminClient(url, await adminToken(url, 'system', 'sysop', pw('sysop')));
    api.DT = adminClient(url, await adminToken(url, 'dept', 'boss', pw('boss')));
    api.OT = adminClient(url, await adminToken(url, 'other', 'otto', pw('otto')));
    api.NU = adminClient(url, await adminToken(url, 'dept', 'nick', pw('nick')));
    api.CP = await machine('system', ['platform-admin']);
    api.CST = await machine('system', ['tenant-admin']);
    api.CT = await machine('dept', ['tenant-admin']);
    api.CN = await machine('dept', ['auditor']);

    services = {
      user: async (slug, roles) => (await on(slug).users.create({ username: fresh('target'), password: pw('target'), roles })).id,
      client: async (slug, roles) => (await on(slug).clients.create({ name: 'target', grantTypes: ['client_credentials'], roles })).clientId,
      role: async (slug) => (await on(slug).roles.create({ name: fresh('role'), permissions: [] })).name,
      roleOfPlatformAdmin: async (slug) => {
        const role = (await on(slug).roles.create({ name: fresh('ops'), permissions: [] })).name;
        await on(slug).users.create({ username: fresh('pa'), password: pw('pa'), roles: ['platform-admin', role] });
        return role;
      },
      resource: async (slug) => (await on(slug).resources.create({ audience: `https://${fresh('target')}.example/`, name: 'target', scopes: ['x'] })).id,
      builtInResource: async (slug) => (await on(slug).resources.list({ limit: 200 })).items.find((r) => r.builtIn)!.id,
    };
  });
  afterAll(() => server?.stop());

  it('a client holding no admin role gets no admin token at all', async () => {
    const s = server.tessera.services;
    const dept = await s.tenants.get('dept');
    const c = await s
      .forTenant(dept.id)
      .clients.create({ name: 'no role', grantTypes: ['client_credentials'], roles: [], defaultResource: `${server.url}/admin` });
    const res = await tokenRequest(
      (await discover(server.url, 'dept')).token_endpoint!,
      { grant_type: 'client_credentials' },
      c as { clientId: string; clientSecret: string },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const expected = row.expect.split(/\s+/).map(Number);
    expect(expected).toHaveLength(ACTORS.length);
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [i, actor] of ACTORS.entries()) {
      const { method, path, body } = await row.request(services);
      const res = await api[actor](method, path, body);
      got[actor] = res.status;
      want[actor] = expected[i]!;
      if (res.status === 403) expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(got).toEqual(want);
  });
});
