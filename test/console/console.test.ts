/**
 * The admin console over HTTP (issue 18), on PGlite and on PostgreSQL + Redis: sign-in through the
 * tenant's login, the session (cookie, idle and absolute timeouts, ended by a change to the
 * admin's account, sign-out ending the browser's sign-in too), who may use it (the table below),
 * CSRF and origin checks, the users page (search, create with errors next to the fields, roles,
 * disable, password and second-factor resets, delete with the username typed), the audit log and
 * its CSV export — every change made through the admin API's rules and audited with the admin as
 * the actor. (The browser walk-through with axe and screenshots is test/browser/console.test.ts.)
 *
 * Who may use the console of tenant T        → expected
 *   tenant-admin of T                         → the console (T only)
 *   staff of T without an admin role          → 403 page
 *   disabled admin of T                       → no sign-in (the login refuses)
 *   admin of another tenant, with its cookie  → no session here: sent to T's sign-in
 *   tenant-admin of `system` (not platform)   → the console, but a platform admin stays untouchable
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest } from '../../src/security/crypto.ts';
import { authorize, CookieJar, pkcePair } from '../browser/http-flow.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { RETRY_AFTER_SECONDS } from '../../src/http/oauth-error.ts';
import { StoreUnavailableError } from '../../src/store/types.ts';
import { browse, get, hidden, post } from './http.ts';
import { BACKENDS, ADMIN_PASSWORD } from '../helpers/tessera.ts';
import { API, startDepartment, type Department } from '../signin/fixture.ts';

describe.each(BACKENDS)('the admin console (%s)', (backend) => {
  let d: Department;
  let base: string;
  let home: string;
  const boss = { username: 'boss', password: 'boss-console-password' };
  const deputy = { username: 'deputy', password: 'deputy-console-password' };
  let bossId: string;
  let deputyId: string;

  const tenant = () => d.server.tessera.services.forTenant(d.tenantId);
  const signIn = async (who: { username: string; password: string }, path = '/users') => {
    const jar = new CookieJar();
    const page = await browse(jar, `${home}${path}`, who);
    return { jar, ...page };
  };

  beforeAll(async () => {
    d = await startDepartment(backend);
    base = d.server.url;
    home = `${base}/t/dept/console`;
    bossId = (await tenant().users.create({ ...boss, roles: ['tenant-admin'] })).id;
    deputyId = (await tenant().users.create({ ...deputy, roles: ['tenant-admin'] })).id;
  });
  afterAll(() => d?.server.stop());

  it('signs a tenant admin in through the tenant login, with a strict page and a console-only session cookie', async () => {
    const jar = new CookieJar();
    const first = await get(jar, `${home}/`);
    expect(first.status).toBe(302);
    const login = new URL(first.headers.get('location')!, base);
    expect(login.pathname).toBe('/t/dept/auth');
    expect(login.searchParams.get('client_id')).toBe('tessera-console');
    expect(login.searchParams.get('code_challenge_method')).toBe('S256');
    const cookies: string[] = [];
    const orig = jar.store.bind(jar);
    jar.store = (res: Response) => {
      cookies.push(...res.headers.getSetCookie());
      orig(res);
    };
    const page = await browse(jar, login.href, boss);
    expect(page.res.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/t/dept/console/users');
    expect(page.html).toContain('<h1 id="page-title">Users</h1>');
    for (const link of ['Users', 'Audit log']) expect(page.html).toMatch(new RegExp(`<a href="/t/dept/console/[a-z]+"[^>]*>${link}</a>`));
    const session = cookies.find((c) => c.startsWith('tessera.console='))!;
    expect(session).toMatch(/; path=\/t\/dept\/console\//i);
    expect(session).toMatch(/; samesite=strict/i);
    expect(session).toMatch(/; httponly/i);
    const csp = page.res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.res.headers.get('x-frame-options')).toBe('DENY');
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    // the store holds a digest of the id, never the id that opens the session
    const id = /tessera\.console=([^;]+)/.exec(session)![1]!;
    const store = d.server.tessera.store;
    expect(await store.get(`tessera:console:${d.tenantId}:${id}`)).toBeNull();
    expect(await store.get(`tessera:console:${d.tenantId}:${digest(id)}`)).toContain(bossId);
  });

  it('creates a user from the form: the API rules, the audit with the admin as actor; a refusal keeps what was typed', async () => {
    const { jar, html } = await signIn(boss);
    const csrf = hidden(html);
    expect(html).toMatch(/<label class="check"><input type="checkbox" name="roles" value="analyst"> analyst<\/label>/);
    // refused: the error next to the field, the typed values kept (never the password)
    const bad = await post(jar, `${home}/users`, { csrf, username: 'nora', email: 'not-an-email', password: 'nora-first-password', roles: 'analyst' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('value="nora"');
    expect(badHtml).toContain('value="not-an-email"');
    expect(badHtml).not.toContain('nora-first-password');
    expect(badHtml).toMatch(/id="new-email"[^>]*aria-invalid="true" aria-describedby="email-error"/);
    expect(badHtml).toContain('<p class="field-error" id="email-error">Enter an email address like name@example.org, or leave it empty.</p>');
    expect(badHtml).toMatch(/value="analyst" checked/);
    const dup = await post(jar, `${home}/users`, { csrf, username: 'alice', password: 'another-long-password' });
    expect(dup.status).toBe(400);
    expect(await dup.text()).toContain('A user with this username already exists.');

    const ok = await post(jar, `${home}/users`, {
      csrf,
      username: 'nora',
      email: 'nora@dept.example',
      password: 'nora-first-password',
      roles: ['analyst', 'viewer'],
      temporaryPassword: '1',
    });
    expect(ok.status, await ok.clone().text()).toBe(303);
    const id = /\/users\/([\w-]+)\?done=created$/.exec(ok.headers.get('location')!)![1]!;
    const nora = await tenant().users.get(id);
    expect(nora).toMatchObject({ username: 'nora', email: 'nora@dept.example', roles: ['analyst', 'viewer'], temporaryPassword: true });
    const shown = await browse(jar, new URL(ok.headers.get('location')!, base).href);
    expect(shown.html).toContain('The user was created.');
    expect(shown.html).toContain('Must choose a password');
    const audit = await tenant().audit.list({ type: 'user.created', target: id });
    expect(audit.items[0]).toMatchObject({ actor: `user:${bossId}@dept` });
  });

  it('searches users by username (any case, a % is a percent sign) and pages through them', async () => {
    const s = tenant();
    await s.users.create({ username: 'Search-Me', password: 'search-me-password', roles: [] });
    await s.users.create({ username: 'per%cent', password: 'per-cent-password', roles: [] });
    const { jar } = await signIn(boss);
    const found = await browse(jar, `${home}/users?username=search-me`);
    expect(found.html).toContain('>Search-Me</a>');
    expect(found.html).not.toContain('>alice</a>');
    const percent = await browse(jar, `${home}/users?username=%25`);
    expect(percent.html).toContain('>per%cent</a>');
    expect(percent.html).not.toContain('>Search-Me</a>');
    const none = await browse(jar, `${home}/users?username=nobody-here`);
    expect(none.html).toContain('No user matches this search.');
  });

  it('changes roles, disables and enables, resets the password and second factors; deletes only with the username typed', async () => {
    const s = tenant();
    const pat = await s.users.create({ username: 'pat', password: 'pat-first-password', roles: ['viewer'] });
    const { jar, html } = await signIn(boss);
    const csrf = hidden(html);
    const user = `${home}/users/${pat.id}`;
    expect((await post(jar, `${user}/roles`, { csrf, roles: ['analyst'] })).headers.get('location')).toBe(`/t/dept/console/users/${pat.id}?done=roles`);
    expect((await s.users.get(pat.id)).roles).toEqual(['analyst']);
    await post(jar, `${user}/state`, { csrf, disabled: 'true' });
    expect((await s.users.get(pat.id)).disabled).toBe(true);
    await post(jar, `${user}/state`, { csrf, disabled: 'false' });
    expect((await s.users.get(pat.id)).disabled).toBe(false);
    const short = await post(jar, `${user}/password`, { csrf, password: 'short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('The password must have at least 8 characters.');
    await post(jar, `${user}/password`, { csrf, password: 'pat-second-password', temporaryPassword: '1' });
    expect((await s.users.get(pat.id)).temporaryPassword).toBe(true);
    const unconfirmed = await post(jar, `${user}/mfa`, { csrf });
    expect(unconfirmed.status).toBe(400);
    expect((await post(jar, `${user}/mfa`, { csrf, confirm: '1' })).status).toBe(303);
    expect((await s.audit.list({ type: 'mfa.reset', target: pat.id })).items).toHaveLength(1);
    const wrong = await post(jar, `${user}/delete`, { csrf, confirm: 'PAT' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('Type pat exactly to confirm the deletion.');
    expect((await s.users.get(pat.id)).username).toBe('pat');
    const gone = await post(jar, `${user}/delete`, { csrf, confirm: 'pat' });
    expect(gone.headers.get('location')).toBe('/t/dept/console/users?done=deleted');
    await expect(s.users.get(pat.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await s.audit.list({ type: 'user.deleted', target: pat.id })).items[0]).toMatchObject({ actor: `user:${bossId}@dept` });
  });

  it('refuses a form without this session’s token, from another origin, or from another session: nothing changes', async () => {
    const a = await signIn(boss);
    const b = await signIn(deputy);
    const before = (await tenant().users.list({ limit: 200 })).items.length;
    const tries = [
      await post(a.jar, `${home}/users`, { username: 'csrf1', password: 'csrf-password-1' }),
      await post(a.jar, `${home}/users`, { csrf: hidden(b.html), username: 'csrf2', password: 'csrf-password-2' }),
      await post(a.jar, `${home}/users`, { csrf: hidden(a.html), username: 'csrf3', password: 'csrf-password-3' }, { origin: 'https://evil.example' }),
    ];
    for (const res of tries) {
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('This form could not be verified.');
    }
    expect((await tenant().users.list({ limit: 200 })).items.length).toBe(before);
  });

  it('gives staff without an admin role a polite 403 page, and an admin of another tenant no session here', async () => {
    const staff = await signIn({ username: 'alice', password: 'alice-correct-horse' });
    expect(staff.res.status).toBe(403);
    expect(staff.html).toContain('No access to the console');
    expect(staff.html).toContain('who is not an administrator of');
    // an admin of `system` signed in to its own console; its cookie means nothing at dept
    const sys = new CookieJar();
    const own = await browse(sys, `${base}/t/system/console/users`, { username: 'admin', password: ADMIN_PASSWORD });
    expect(own.res.status).toBe(200);
    const there = await get(sys, `${home}/users`);
    expect(there.status).toBe(302);
    expect(new URL(there.headers.get('location')!, base).pathname).toBe('/t/dept/auth');
    const forged = await post(sys, `${home}/users`, { csrf: hidden(own.html), username: 'intruder', password: 'intruder-password' });
    expect(forged.status).toBe(401);
    await expect(tenant().users.list({ limit: 200 })).resolves.toMatchObject({
      items: expect.not.arrayContaining([expect.objectContaining({ username: 'intruder' })]),
    });
  });

  it('keeps a tenant admin of system away from a platform admin, as the admin API does', async () => {
    const system = await d.server.tessera.services.tenants.get('system');
    const sys = d.server.tessera.services.forTenant(system.id);
    await sys.users.create({ username: 'sysops', password: 'sysops-long-password', roles: ['tenant-admin'] });
    const platformAdmin = (await sys.users.list({ limit: 200 })).items.find((u) => u.username === 'admin')!;
    const jar = new CookieJar();
    const page = await browse(jar, `${base}/t/system/console/users`, { username: 'sysops', password: 'sysops-long-password' });
    expect(page.res.status).toBe(200);
    const res = await post(jar, `${base}/t/system/console/users/${platformAdmin.id}/state`, { csrf: hidden(page.html), disabled: 'true' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/class="alert" role="alert"[^>]*>[^<]*platform admin/);
    expect((await sys.users.get(platformAdmin.id)).disabled).toBe(false);
  });

  it('ends the session after 15 idle minutes, 8 hours after sign-in, and when the admin’s account changes', async () => {
    const store = d.server.tessera.store;
    const keyOf = (jar: CookieJar) => `tessera:console:${d.tenantId}:${digest(/tessera\.console=([^;]+)/.exec(jar.header())![1]!)}`;
    const a = await signIn(deputy);
    // each request renews the idle time: 15 minutes from now
    expect(await store.ttl(keyOf(a.jar))).toBeGreaterThan(14 * 60_000);
    expect(await store.ttl(keyOf(a.jar))).toBeLessThanOrEqual(15 * 60_000);
    // signed in 8 hours ago: over, whatever the idle time says
    const stored = JSON.parse((await store.get(keyOf(a.jar)))!) as { createdAt: number };
    await store.set(keyOf(a.jar), JSON.stringify({ ...stored, createdAt: Date.now() - 8 * 3600_000 - 1000 }), 60_000);
    const late = await get(a.jar, `${home}/users`);
    expect(late.status).toBe(302);
    expect(new URL(late.headers.get('location')!, base).pathname).toBe('/t/dept/auth');
    // the admin's password changed (by another admin): the session ends at once
    const b = await signIn(deputy);
    await tenant().users.update(deputyId, { password: 'deputy-new-password-2' });
    const after = await get(b.jar, `${home}/users`);
    expect(after.status).toBe(302);
    deputy.password = 'deputy-new-password-2';
  });

  it('re-checks the second-factor policy at every request: a promotion or a stricter policy asks for the factor (found in review)', async () => {
    const s = tenant();
    const carol = await s.users.create({ username: 'carol', password: 'carol-long-password', roles: ['viewer'] });
    await d.server.tessera.services.tenants.update('dept', { mfa: { require: 'roles', roles: ['tenant-admin'] } });
    try {
      // no admin role: the 403 page, and no console session at all
      const jar = new CookieJar();
      const first = await browse(jar, `${home}/users`, { username: 'carol', password: 'carol-long-password' });
      expect(first.res.status).toBe(403);
      expect(jar.header()).not.toContain('tessera.console=');
      // promoted meanwhile: the next visit is a sign-in that must show the factor (prompt=login)
      await s.users.update(carol.id, { roles: ['viewer', 'tenant-admin'] });
      const next = await get(jar, `${home}/users`);
      expect(next.status).toBe(302);
      expect(new URL(next.headers.get('location')!, base).pathname).toBe('/t/dept/auth');
      // an admin signed in with the password alone, then the policy covers them: the session ends
      const adminJar = (await signIn(boss)).jar;
      expect((await get(adminJar, `${home}/users`)).status).toBe(302);
      expect(adminJar.header()).not.toContain('tessera.console=');
    } finally {
      await d.server.tessera.services.tenants.update('dept', { mfa: { require: 'none' } });
    }
  });

  it('never lets the console’s built-in client redeem a code at the token endpoint (found in review)', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await authorize({
      authorizationEndpoint: `${base}/t/dept/auth`,
      clientId: 'tessera-console',
      redirectUri: `${base}/t/dept/console/callback`,
      challenge,
      username: 'alice',
      password: 'alice-correct-horse',
      scope: 'openid',
    });
    const res = await tokenRequest(d.token, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: `${base}/t/dept/console/callback`,
      client_id: 'tessera-console',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it('answers odd addresses with a page, not a server error: unknown notices, forged cursors, bad filters (found in review)', async () => {
    const { jar } = await signIn(boss);
    expect((await browse(jar, `${home}/users?done=constructor`)).res.status).toBe(200);
    expect((await browse(jar, `${home}/users?done=__proto__`)).res.status).toBe(200);
    const cursor = await browse(jar, `${home}/users?cursor=zzzz`);
    expect(cursor.res.status).toBe(400);
    expect(cursor.html).toContain('<h1 id="page-title">Not accepted</h1>');
    expect((await browse(jar, `${home}/audit.csv?from=garbage`)).res.status).toBe(400);
    expect((await browse(jar, `${home}/users/%E0%A4%A`)).res.status).toBe(404);
  });

  it('answers 503 with Retry-After, never a 500 or a detail, when the store fails under it (found in review)', async () => {
    const { jar } = await signIn(boss);
    const store = d.server.tessera.store;
    const original = store.get;
    store.get = () => Promise.reject(new StoreUnavailableError(new Error('connection lost')));
    try {
      const res = await get(jar, `${home}/users`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      const text = await res.text();
      expect(text).toContain('Temporarily unavailable');
      expect(text).not.toContain('connection lost');
    } finally {
      store.get = original;
    }
    expect((await get(jar, `${home}/users`)).status).toBe(200);
  });

  it('redeems a sign-in code once: of 40 parallel callbacks with it, exactly one opens a session', async () => {
    const jar = new CookieJar();
    const at = await browse(jar, `${home}/users`, boss, /\/console\/callback\?/);
    expect(at.url).toMatch(/\/t\/dept\/console\/callback\?code=/);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => fetch(at.url, { redirect: 'manual', headers: { cookie: jar.header(), connection: 'close' } })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 302)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(39);
    const opened = answers.find((a) => a.status === 302)!;
    expect(opened.headers.get('location')).toBe('/t/dept/console/users');
    expect(opened.headers.getSetCookie().some((c) => c.startsWith('tessera.console=') && !c.startsWith('tessera.console=;'))).toBe(true);
  });

  it('comes back after the sign-in to the page that was asked for, and only to a console page', async () => {
    const jar = new CookieJar();
    const page = await browse(jar, `${home}/audit`, boss);
    expect(new URL(page.url).pathname).toBe('/t/dept/console/audit');
    expect(jar.header()).not.toContain('tessera.console-login=');
    // the sign-in cookie is signed (a planted state and verifier are ignored)
    const start = await fetch(`${home}/audit`, { redirect: 'manual' });
    expect(start.headers.getSetCookie().some((c) => c.startsWith('tessera.console-login.sig='))).toBe(true);
  });

  it('signs out: the console session and the browser’s sign-in at the tenant end', async () => {
    const { jar, html } = await signIn(boss);
    const out = await post(jar, `${home}/sign-out`, { csrf: hidden(html) });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('You have signed out of the console.');
    expect(jar.header()).not.toContain('tessera.console=');
    // "Sign in again" asks for the password: no silent sign-in from the tenant's session
    const again = await browse(jar, `${home}/`);
    expect(again.html).toContain('name="password"');
  });

  it('shows the audit log with filters and pages, and exports it as CSV', async () => {
    await fetch(d.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: d.webapp.clientId,
        client_secret: d.webapp.clientSecret,
        username: 'alice',
        password: 'wrong',
        resource: API,
      }),
    });
    const { jar } = await signIn(boss);
    const page = await browse(jar, `${home}/audit?type=user.created&actor=user:${bossId}@dept`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('<h1 id="page-title">Audit log</h1>');
    expect(page.html).toContain('<td>user.created</td>');
    expect(page.html).not.toContain('<td>signin.failure</td>');
    const bad = await browse(jar, `${home}/audit?from=yesterday`);
    expect(bad.res.status).toBe(400);
    expect(bad.html).toContain('Check the filters: from.');
    const csv = await get(jar, `${home}/audit.csv?type=signin.failure`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-dept-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('time,type,actor,target,address,request_id,data');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.split(',')[1] === '"signin.failure"')).toBe(true);
  });
});
