/**
 * Audit findings 9 and 10 (issue 13).
 * 9: NUL and control bytes gave 503 and counted as database errors (`client_id=abc%00` at the
 *    token and revocation endpoints, `username=ann%00`, `/auth?client_id=abc%00`, an admin token
 *    whose `iss` holds `\u0000`, JSON strings in the admin API). Now each is refused at the edge with
 *    a 4xx in the surface's own format, nothing is written, and no dependency error is counted.
 * 10: audit events stored the raw X-Request-Id (a 3 KB header verbatim) instead of the request id
 *    the response and the logs use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { API, PASSWORDS, startDept, type Dept } from './support.ts';

const form = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe.each(BACKENDS)('NUL and control bytes, and request ids, on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend);
  });
  afterAll(() => d?.server.stop());

  const databaseErrors = async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    return Number(/tessera_dependency_errors_total\{dependency="database"\} (\d+)/.exec(text)?.[1] ?? 'NaN');
  };
  const rows = () => d.server.tessera.db.prisma.$queryRaw<{ n: bigint }[]>`
    SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM clients) + (SELECT count(*) FROM roles) + (SELECT count(*) FROM resources) + (SELECT count(*) FROM oidc_artifacts) AS n`;

  it('answers 4xx, writes nothing and counts no database error', async () => {
    const errorsBefore = await databaseErrors();
    const before = (await rows())[0]!.n;
    const token = d.disco.token_endpoint!;
    const answers: [string, Response][] = [];
    const check = async (what: string, res: Promise<Response>) => answers.push([what, await res]);

    await check('token: client_id=abc%00', form(token, 'grant_type=client_credentials&client_id=abc%00&client_secret=x'));
    await check('token: basic client id with NUL', form(token, 'grant_type=client_credentials', { authorization: basic('abc%00', 'x') }));
    await check(
      'token: username=ann%00',
      form(token, `grant_type=password&username=ann%00&password=${PASSWORDS.alice}`, { authorization: basic(d.webapp.clientId, d.webapp.clientSecret) }),
    );
    await check(
      'token: scope with NUL',
      form(token, 'grant_type=client_credentials&scope=a%00b', { authorization: basic(d.machine.clientId, d.machine.clientSecret) }),
    );
    await check(
      'token: refresh token with NUL',
      form(token, 'grant_type=refresh_token&refresh_token=x%00y', { authorization: basic(d.webapp.clientId, d.webapp.clientSecret) }),
    );
    await check('revocation: client_id=abc%00', form(d.disco.revocation_endpoint!, 'token=x&client_id=abc%00'));
    await check('introspection: client_id=abc%00', form(d.disco.introspection_endpoint!, 'token=x&client_id=abc%00&client_secret=y'));
    // RFC 7662: a malformed token is simply inactive
    const inactive = await form(d.disco.introspection_endpoint!, 'token=abc%00', {
      authorization: basic(d.introspector.clientId, d.introspector.clientSecret),
    });
    expect(inactive.status).toBe(200);
    expect(await inactive.json()).toEqual({ active: false });
    const auth = new URL(d.disco.authorization_endpoint!);
    await check(
      '/auth?client_id=abc%00',
      fetch(
        `${auth.href}?client_id=abc%00&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fspa%2F&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&scope=openid`,
        { redirect: 'manual' },
      ),
    );
    // a valid client and redirect URI: the error goes back to the application (RFC 6749 §4.1.2.1)
    const back = await fetch(
      `${auth.href}?client_id=${d.spa.clientId}&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fspa%2F&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&scope=openid&state=a%00b&nonce=%00`,
      { redirect: 'manual' },
    );
    expect(back.status).toBe(303);
    expect(new URL(back.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    await check('/t/sys%00tem/token', form(`${d.url}/t/sys%00tem/token`, 'grant_type=client_credentials'));

    // the admin API
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: `${d.url}/t/sys\u0000tem`, aud: `${d.url}/admin` })).toString('base64url');
    await check('admin: token with NUL in iss', fetch(`${d.url}/admin/tenants`, { headers: { authorization: `Bearer ${header}.${payload}.c2ln` } }));
    const boss = d.boss;
    const raw = async (what: string, method: string, path: string, body: unknown) => {
      const res = await boss(method, path, body);
      answers.push([what, new Response(JSON.stringify(res.body), { status: res.status, headers: res.headers })]);
    };
    await raw('admin: username with NUL', 'POST', '/tenants/dept/users', { username: 'ann\u0000', password: 'a-long-enough-password', roles: [] });
    await raw('admin: role name with NUL', 'POST', '/tenants/dept/roles', { name: 'r\u0000', permissions: [] });
    await raw('admin: role list with NUL', 'POST', '/tenants/dept/users', { username: 'ann2', password: 'a-long-enough-password', roles: ['viewer\u0000'] });
    await raw('admin: audience with NUL', 'POST', '/tenants/dept/resources', { audience: 'https://x.example/\u0000', name: 'x', scopes: [] });
    await raw('admin: client name with a control byte', 'POST', '/tenants/dept/clients', { name: 'c\u0007', grantTypes: ['client_credentials'] });
    await raw('admin: description with NUL', 'PATCH', '/tenants/dept/roles/viewer', { description: 'x\u0000' });
    await raw('admin: key with NUL', 'POST', '/tenants/dept/roles', { name: 'r2', permissions: [], 'x\u0000': 1 });
    await raw('admin: path id with NUL', 'GET', '/tenants/dept/users/%00', undefined);
    await raw('admin: path name with NUL', 'GET', '/tenants/dept/roles/a%00', undefined);
    await raw('admin: client id with NUL', 'DELETE', '/tenants/dept/clients/a%00b', undefined);
    await raw('admin: tenant with NUL', 'GET', '/tenants/de%00pt', undefined);
    await raw('admin: audit query with NUL', 'GET', '/tenants/dept/audit-events?actor=a%00', undefined);

    for (const [what, res] of answers) {
      expect.soft(res.status, what).toBeGreaterThanOrEqual(400);
      expect.soft(res.status, what).toBeLessThan(500);
      if (res.status !== 303 && res.status !== 302) {
        const type = res.headers.get('content-type') ?? '';
        expect.soft(type, what).toMatch(/json|html/);
      }
    }
    const after = (await rows())[0]!.n;
    expect(after).toBe(before);
    expect(await databaseErrors()).toBe(errorsBefore);
  });

  it('answers an oversized body and keeps answering the same client (found by the fuzz tests)', async () => {
    // the readers stopped reading by destroying the request: the connection went with it, and a
    // pooled client got ECONNRESET on its next request
    const big = `scope=${'x'.repeat(200_000)}`;
    for (const url of [d.disco.introspection_endpoint!, d.disco.revocation_endpoint!]) {
      for (let i = 0; i < 5; i++) {
        const over = await form(url, big, { authorization: basic(d.introspector.clientId, d.introspector.clientSecret) });
        expect(over.status).toBe(400);
        expect(over.headers.get('connection')).toBe('close');
        const next = await form(url, 'token=x', { authorization: basic(d.introspector.clientId, d.introspector.clientSecret) });
        expect(next.status).toBe(200);
      }
    }
    const json = await d.boss('POST', '/tenants/dept/roles', `{"name":"${'y'.repeat(100_000)}"}`);
    expect(json.status).toBe(413);
    expect((await d.boss('GET', '/tenants/dept')).status).toBe(200);
  });

  it('records the request id the response carries, never a raw or oversized header', async () => {
    const huge = 'x'.repeat(3000);
    const res = await d.boss(
      'POST',
      '/tenants/dept/roles',
      { name: 'traced', permissions: [{ resource: API, scope: 'outbreaks:read' }] },
      { 'x-request-id': huge },
    );
    expect(res.status).toBe(201);
    const id = res.headers.get('x-request-id')!;
    expect(id).not.toBe(huge);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const event = await d.server.tessera.db.prisma.auditEvent.findFirstOrThrow({ where: { tenantId: d.tenantId, type: 'role.created', target: 'traced' } });
    expect(event.requestId).toBe(id);
    // sign-in events too (they are written by the provider)
    const signIn = await fetch(d.disco.token_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(d.webapp.clientId, d.webapp.clientSecret), 'x-request-id': huge },
      body: new URLSearchParams({ grant_type: 'password', username: 'victor', password: PASSWORDS.victor }),
    });
    const signInId = signIn.headers.get('x-request-id')!;
    expect(signInId).toMatch(/^[0-9a-f-]{36}$/);
    const success = await d.server.tessera.db.prisma.auditEvent.findFirstOrThrow({
      where: { tenantId: d.tenantId, type: 'signin.success' },
      orderBy: { id: 'desc' },
    });
    expect(success.requestId).toBe(signInId);
    // a well-formed id is kept end to end
    const kept = await d.boss('GET', '/tenants/dept', undefined, { 'x-request-id': 'ticket-4711' });
    expect(kept.headers.get('x-request-id')).toBe('ticket-4711');
  });
});
