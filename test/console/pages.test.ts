/**
 * The console's other pages over HTTP (issue 18), on PGlite and on PostgreSQL + Redis: APIs,
 * Roles (the APIs × scopes matrix), Clients (created from a type, the secret shown once, rotated
 * with a grace period, disabled, deleted), Keys (rotation), Settings (name, MFA policy) and, for
 * platform admins only, Tenants (created with a first admin, who then signs in to its console).
 * Each proven end to end where it matters: the role's matrix and the client's secret give a token.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../browser/http-flow.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { startDepartment, type Department } from '../signin/fixture.ts';
import { browse, get, hidden, post } from './http.ts';

const NEW_API = 'https://lab.example.org/api';

describe.each(BACKENDS)('the console pages (%s)', (backend) => {
  let d: Department;
  let base: string;
  let home: string;
  let jar: CookieJar;
  let csrf: string;
  const boss = { username: 'chief', password: 'chief-console-password' };
  const tenant = () => d.server.tessera.services.forTenant(d.tenantId);
  /** the single-use token of the secret-showing form on `url` */
  const onceOf = async (url: string) => /name="once" value="([^"]+)"/.exec((await browse(jar, url)).html)![1]!;

  beforeAll(async () => {
    d = await startDepartment(backend);
    base = d.server.url;
    home = `${base}/t/dept/console`;
    await tenant().users.create({ ...boss, roles: ['tenant-admin'] });
    jar = new CookieJar();
    const page = await browse(jar, `${home}/users`, boss);
    expect(page.res.status).toBe(200);
    csrf = hidden(page.html);
  });
  afterAll(() => d?.server.stop());

  it('names every page in the navigation; Tenants only for a platform admin', async () => {
    const { html } = await browse(jar, `${home}/users`);
    const nav = /<nav aria-label="Console">(.*?)<\/nav>/s.exec(html)![1]!;
    expect([...nav.matchAll(/>([^<]+)<\/a>/g)].map((m) => m[1])).toEqual(['Users', 'Roles', 'APIs', 'Clients', 'Keys', 'Audit log', 'Settings']);
    expect((await browse(jar, `${home}/tenants`)).res.status).toBe(404);
    const sys = new CookieJar();
    const platform = await browse(sys, `${base}/t/system/console/users`, { username: 'admin', password: ADMIN_PASSWORD });
    expect(/<nav aria-label="Console">(.*?)<\/nav>/s.exec(platform.html)![1]).toContain('>Tenants</a>');
  });

  it('APIs: adds one (an audience that is no URL is refused at its field), changes its scopes and token lifetime', async () => {
    const bad = await post(jar, `${home}/apis`, { csrf, audience: 'lab api', name: 'Lab', scopes: 'samples:read' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('id="api-audience-error">Enter the API’s URL, e.g. https://epi.example.org/api.</p>');
    expect(badHtml).toContain('value="lab api"');
    const ok = await post(jar, `${home}/apis`, { csrf, audience: NEW_API, name: 'Lab', scopes: 'samples:read, samples:write', accessTokenTtl: '600' });
    expect(ok.status).toBe(303);
    const id = /\/apis\/([\w-]+)\?done=api-created$/.exec(ok.headers.get('location')!)![1]!;
    expect(await tenant().resources.get(id)).toMatchObject({ audience: NEW_API, scopes: ['samples:read', 'samples:write'], accessTokenTtl: 600 });
    await post(jar, `${home}/apis/${id}/edit`, { csrf, name: 'Laboratory', scopes: 'samples:read samples:write samples:delete', accessTokenTtl: '900' });
    expect(await tenant().resources.get(id)).toMatchObject({
      name: 'Laboratory',
      scopes: ['samples:read', 'samples:write', 'samples:delete'],
      accessTokenTtl: 900,
    });
    const list = await browse(jar, `${home}/apis`);
    expect(list.html).toContain(`<code>${NEW_API}</code>`);
  });

  it('Roles: creates one, grants scopes in the matrix, and a holder’s token carries exactly them; deletes with its name typed', async () => {
    expect((await post(jar, `${home}/roles`, { csrf, name: 'lab-tech', description: 'Runs the lab' })).headers.get('location')).toBe(
      '/t/dept/console/roles/lab-tech?done=role-created',
    );
    const page = await browse(jar, `${home}/roles/lab-tech`);
    expect(page.html).toContain(`<input type="checkbox" name="permission" value="${NEW_API} samples:read">`);
    await post(jar, `${home}/roles/lab-tech/edit`, { csrf, description: 'Runs the lab', permission: [`${NEW_API} samples:read`, `${NEW_API} samples:write`] });
    expect((await tenant().roles.get('lab-tech')).permissions).toEqual([
      { resource: NEW_API, scope: 'samples:read' },
      { resource: NEW_API, scope: 'samples:write' },
    ]);
    await tenant().users.create({ username: 'tess', password: 'tess-lab-password', roles: ['lab-tech'] });
    const token = await tokenRequest(d.token, { grant_type: 'password', username: 'tess', password: 'tess-lab-password', resource: NEW_API }, d.webapp);
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token as string).scope).toBe('samples:read samples:write');
    // a built-in role cannot be changed from the console: no save button, no delete
    const builtIn = await browse(jar, `${home}/roles/tenant-admin`);
    expect(builtIn.html).toContain('A built-in role: what it may do is fixed.');
    expect(builtIn.html).not.toContain('Save permissions');
    await post(jar, `${home}/roles`, { csrf, name: 'temp-role' });
    expect((await post(jar, `${home}/roles/temp-role/delete`, { csrf, confirm: 'temp' })).status).toBe(400);
    expect((await post(jar, `${home}/roles/temp-role/delete`, { csrf, confirm: 'temp-role' })).headers.get('location')).toBe(
      '/t/dept/console/roles?done=role-deleted',
    );
  });

  it('Clients: a machine client’s secret is shown once and gets a token; rotation keeps the old one for the grace period; disabling stops it', async () => {
    const createOnce = await onceOf(`${home}/clients`);
    const form = { csrf, once: createOnce, type: 'machine', name: 'sampler', defaultResource: NEW_API, roles: 'lab-tech' };
    const created = await post(jar, `${home}/clients`, form);
    expect(created.status).toBe(201);
    expect(created.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await created.text();
    expect(html).toContain('Copy the secret now: it is shown only this once.');
    expect(html).toContain('data-copy="client-secret" hidden');
    const clientId = /id="client-id" value="([^"]+)"/.exec(html)![1]!;
    // the answer reloaded: no second client, no secret
    const count = async () => (await tenant().clients.list({ limit: 200 })).items.filter((c) => c.name === 'sampler').length;
    expect(await count()).toBe(1);
    const reloaded = await post(jar, `${home}/clients`, form);
    expect(reloaded.status).toBe(400);
    expect(await reloaded.text()).toContain('This form was already sent');
    expect(await count()).toBe(1);
    const secret = /id="client-secret" value="([^"]+)"/.exec(html)![1]!;
    const cc = await tokenRequest(d.token, { grant_type: 'client_credentials' }, { clientId, clientSecret: secret });
    expect(cc.status).toBe(200);
    expect(decodeJwt(cc.body.access_token as string)).toMatchObject({ aud: NEW_API, roles: ['lab-tech'], scope: 'samples:read samples:write' });
    // never shown again
    const shown = await browse(jar, `${home}/clients/${clientId}`);
    expect(shown.html).not.toContain(secret);
    expect(shown.html).toContain('set (never shown again)');
    const script = await get(jar, `${home}/console.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');

    const rotateOnce = await onceOf(`${home}/clients/${clientId}`);
    const rotated = await post(jar, `${home}/clients/${clientId}/secret`, { csrf, once: rotateOnce });
    expect(rotated.status).toBe(201);
    const rotatedHtml = await rotated.text();
    const second = /id="client-secret" value="([^"]+)"/.exec(rotatedHtml)![1]!;
    expect(second).not.toBe(secret);
    expect(rotatedHtml).toMatch(/The previous secret keeps working until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    // the answer reloaded (the same form sent again): nothing is rotated, no secret shown
    const again = await post(jar, `${home}/clients/${clientId}/secret`, { csrf, once: rotateOnce });
    expect(again.status).toBe(400);
    const againHtml = await again.text();
    expect(againHtml).toContain('This form was already sent');
    expect(againHtml).not.toMatch(/id="client-secret" value=/);
    for (const s of [secret, second])
      expect((await tokenRequest(d.token, { grant_type: 'client_credentials' }, { clientId, clientSecret: s })).status).toBe(200);

    await post(jar, `${home}/clients/${clientId}/state`, { csrf, disabled: 'true' });
    expect((await tokenRequest(d.token, { grant_type: 'client_credentials' }, { clientId, clientSecret: second })).status).toBe(401);
    expect((await post(jar, `${home}/clients/${clientId}/delete`, { csrf, confirm: 'sampler' })).headers.get('location')).toBe(
      '/t/dept/console/clients?done=client-deleted',
    );
  });

  it('Clients: a single-page app gets no secret and needs a valid redirect URI; its settings are saved', async () => {
    const bad = await post(jar, `${home}/clients`, { csrf, once: await onceOf(`${home}/clients`), type: 'spa', name: 'dashboard', redirectUris: 'not a url' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('value="dashboard"');
    // a scheme that runs something in the browser is no redirect target (the API's rule)
    for (const uri of ['javascript:alert(1)//', 'data:text/html,hi', 'file:///etc/passwd']) {
      const res = await post(jar, `${home}/clients`, { csrf, once: await onceOf(`${home}/clients`), type: 'spa', name: 'dashboard', redirectUris: uri });
      expect(res.status, uri).toBe(400);
    }
    const native = await post(jar, `${home}/clients`, {
      csrf,
      once: await onceOf(`${home}/clients`),
      type: 'spa',
      name: 'phone app',
      redirectUris: 'org.example.epi:/callback',
    });
    expect(native.status).toBe(303);
    const ok = await post(jar, `${home}/clients`, {
      csrf,
      once: await onceOf(`${home}/clients`),
      type: 'spa',
      name: 'dashboard',
      redirectUris: 'https://dash.example.org/cb\nhttps://dash.example.org/cb2',
    });
    expect(ok.status).toBe(303);
    const clientId = decodeURIComponent(/\/clients\/([^?]+)\?done=client-created$/.exec(ok.headers.get('location')!)![1]!);
    expect(await tenant().clients.get(clientId)).toMatchObject({
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: ['https://dash.example.org/cb', 'https://dash.example.org/cb2'],
    });
    await post(jar, `${home}/clients/${encodeURIComponent(clientId)}/edit`, {
      csrf,
      name: 'Dashboard',
      defaultResource: NEW_API,
      redirectUris: 'https://dash.example.org/cb',
      rateLimitPerHour: '500',
    });
    expect(await tenant().clients.get(clientId)).toMatchObject({
      name: 'Dashboard',
      defaultResource: NEW_API,
      redirectUris: ['https://dash.example.org/cb'],
      rateLimitPerHour: 500,
    });
    const badLimit = await post(jar, `${home}/clients/${encodeURIComponent(clientId)}/edit`, { csrf, name: 'Dashboard', rateLimitPerHour: 'lots' });
    expect(badLimit.status).toBe(400);
    await post(jar, `${home}/clients/${encodeURIComponent(clientId)}/edit`, {
      csrf,
      name: 'Dashboard',
      defaultResource: NEW_API,
      redirectUris: 'https://dash.example.org/cb',
      rateLimitPerHour: '',
    });
    expect((await tenant().clients.get(clientId)).rateLimitPerHour).toBeNull();
    const unknownType = await post(jar, `${home}/clients`, { csrf, once: await onceOf(`${home}/clients`), type: 'robot', name: 'x' });
    expect(await unknownType.text()).toContain('Choose a type of client.');
  });

  it('Keys: lists the published keys and rotates, after which the next key signs', async () => {
    const before = await browse(jar, `${home}/keys`);
    expect(before.html).toContain('Signs tokens now');
    expect(before.html).toContain('Published, signs next');
    const next = /<code>([^<]+)<\/code><\/td><td>[^<]+<\/td><td>Published, signs next/.exec(before.html)![1]!;
    expect((await post(jar, `${home}/keys`, { csrf })).headers.get('location')).toBe('/t/dept/console/keys?done=keys-rotated');
    const after = await browse(jar, `${home}/keys?done=keys-rotated`);
    expect(after.html).toMatch(new RegExp(`<code>${next}</code></td><td>[^<]+</td><td>Signs tokens now`));
    expect(after.html).toContain('The signing key was rotated.');
  });

  it('Settings: renames the tenant and sets the MFA policy to roles (a role that does not exist is refused)', async () => {
    expect((await post(jar, `${home}/settings`, { csrf, name: 'Dept of Health', mfaRequire: 'roles', mfaRoles: 'lab-tech' })).status).toBe(303);
    expect(await d.server.tessera.services.tenants.get('dept')).toMatchObject({ name: 'Dept of Health', mfaRequire: 'roles', mfaRoles: ['lab-tech'] });
    const none = await post(jar, `${home}/settings`, { csrf, name: 'Dept of Health', mfaRequire: 'sometimes' });
    expect(none.status).toBe(400);
    await post(jar, `${home}/settings`, { csrf, name: 'Dept of Health', mfaRequire: 'none' });
  });

  it('saves only what changed, and sees every role however many there are (found in review)', async () => {
    // 205 more roles: more than one page of the API's lists
    const s = tenant();
    for (let i = 0; i < 205; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, 205 - i) }, (_, k) => s.roles.create({ name: `bulk-${String(i + k).padStart(3, '0')}`, permissions: [] })),
      );
    }
    const all = (await s.roles.list({ limit: 200 })).items.map((x) => x.name);
    const policy = ['bulk-000', 'bulk-204', 'lab-tech'];
    await d.server.tessera.services.tenants.update('dept', { mfa: { require: 'roles', roles: policy } });
    try {
      const page = await browse(jar, `${home}/settings`);
      for (const name of ['bulk-000', 'bulk-204', 'tenant-admin']) expect(page.html).toContain(`value="${name}"`);
      expect(all.length).toBe(200);
      // renaming sends the name alone: the policy stays exactly as it was
      expect((await post(jar, `${home}/settings`, { csrf, name: 'Dept of Health 2', mfaRequire: 'roles', mfaRoles: policy })).status).toBe(303);
      const t = await d.server.tessera.services.tenants.get('dept');
      expect(t.name).toBe('Dept of Health 2');
      expect([...t.mfaRoles].sort()).toEqual([...policy].sort());
    } finally {
      await d.server.tessera.services.tenants.update('dept', { name: 'Dept of Health', mfa: { require: 'none' } });
    }
    // a platform admin renames the built-in admin-cli: only the name is sent, so it is accepted
    const sys = new CookieJar();
    const sysPage = await browse(sys, `${base}/t/system/console/clients/admin-cli`, { username: 'admin', password: ADMIN_PASSWORD });
    expect(sysPage.res.status).toBe(200);
    const renamed = await post(sys, `${base}/t/system/console/clients/admin-cli/edit`, {
      csrf: hidden(sysPage.html),
      name: 'Admin CLI',
      defaultResource: `${base}/admin`,
    });
    expect(renamed.status).toBe(303);
    // odd section and type names are pages, not server errors
    expect((await browse(jar, `${home}/__proto__`)).res.status).toBe(404);
    expect((await browse(jar, `${home}/constructor`)).res.status).toBe(404);
    const oddType = await post(jar, `${home}/clients`, { csrf, once: await onceOf(`${home}/clients`), type: 'constructor', name: 'x' });
    expect(oddType.status).toBe(400);
    expect(await oddType.text()).toContain('Choose a type of client.');
  });

  it('Tenants: a platform admin creates a tenant with its first admin, who signs in to that tenant’s console', async () => {
    const sys = new CookieJar();
    const page = await browse(sys, `${base}/t/system/console/tenants`, { username: 'admin', password: ADMIN_PASSWORD });
    expect(page.html).toContain('<h1 id="page-title">Tenants</h1>');
    const bad = await post(sys, `${base}/t/system/console/tenants`, { csrf: hidden(page.html), slug: 'Bad Slug', name: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Use 2 to 63 lower-case letters');
    const ok = await post(sys, `${base}/t/system/console/tenants`, {
      csrf: hidden(page.html),
      slug: 'lab-b',
      name: 'Lab B',
      adminUsername: 'lead',
      adminPassword: 'lead-first-password',
    });
    expect(ok.headers.get('location')).toBe('/t/system/console/tenants?done=tenant-created');
    const lead = new CookieJar();
    const theirs = await browse(lead, `${base}/t/lab-b/console/users`, { username: 'lead', password: 'lead-first-password' });
    expect(theirs.res.status).toBe(200);
    expect(theirs.html).toContain('>lead</a>');
  });
});
