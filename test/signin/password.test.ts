/** The password grant (CONTRACT §4, issue 4) over HTTP, on every backend. */
import argon2 from 'argon2';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { API, PASSWORDS, startDepartment, type Department } from './fixture.ts';

describe.each(BACKENDS)('password grant on %s', (backend) => {
  let d: Department;
  beforeAll(async () => {
    d = await startDepartment(backend);
  });
  afterAll(() => d?.server.stop());

  const signIn = (username: string, password: string, extra: Record<string, string> = {}, client = d.webapp) =>
    tokenRequest(d.token, { grant_type: 'password', username, password, ...extra }, client);

  it('issues a JWT with the roles and scopes of the user, and a refresh token', async () => {
    const res = await signIn('alice', PASSWORDS.alice);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'outbreaks:read simulate:run' });
    expect(typeof res.body.refresh_token).toBe('string');
    const jwks = createRemoteJWKSet(new URL(`${d.server.url}/t/dept/jwks`));
    const { payload, protectedHeader } = await jwtVerify(res.body.access_token as string, jwks, {
      issuer: `${d.server.url}/t/dept`,
      audience: API,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: d.users.alice,
      client_id: d.webapp.clientId,
      scope: 'outbreaks:read simulate:run',
      roles: ['analyst', 'viewer'],
      tenant_id: 'dept',
    });
    // no PII in the access token
    expect(JSON.stringify(payload)).not.toContain('alice@dept.example');
    expect(JSON.stringify(payload)).not.toContain(PASSWORDS.alice);
  });

  it('intersects the requested scope, and refuses when nothing is left', async () => {
    const some = await signIn('alice', PASSWORDS.alice, { scope: 'simulate:run nonsense' });
    expect(some.status).toBe(200);
    expect(some.body.scope).toBe('simulate:run');
    const none = await signIn('victor', PASSWORDS.victor, { scope: 'simulate:run' });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  it('answers an unknown user and a wrong password identically', async () => {
    const wrong = await signIn('alice', 'not-her-password');
    const unknown = await signIn('nobody-here', 'whatever-password');
    const disabled = await signIn('dana', PASSWORDS.dana);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    // a disabled user is refused with the same answer
    expect(disabled.status).toBe(wrong.status);
    expect(disabled.body).toEqual(wrong.body);
  });

  it('refuses clients without the password grant with unauthorized_client', async () => {
    const res = await signIn('alice', PASSWORDS.alice, {}, d.machine);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it('asks for the missing parameters', async () => {
    const res = await tokenRequest(d.token, { grant_type: 'password', username: 'alice' }, d.webapp);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const target = await signIn('alice', PASSWORDS.alice, { resource: 'https://nowhere.example/' });
    expect(target.status).toBe(400);
    expect(target.body.error).toBe('invalid_target');
  });

  it('gives the bootstrap admin a platform-admin token for the admin API through admin-cli', async () => {
    const disco = await discover(d.server.url, 'system');
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token as string);
    expect(claims).toMatchObject({ aud: `${d.server.url}/admin`, scope: 'admin', tenant_id: 'system', client_id: 'admin-cli' });
    expect(claims.roles).toEqual(['platform-admin', 'tenant-admin']);
    expect(typeof res.body.refresh_token).toBe('string');
  });

  it('writes audit events for success and failure, without secrets', async () => {
    await signIn('victor', PASSWORDS.victor);
    await signIn('victor', 'bad-password-for-audit');
    const events = await d.server.tessera.db.prisma.auditEvent.findMany({ where: { tenantId: d.tenantId, type: { startsWith: 'signin.' } } });
    expect(events.some((e) => e.type === 'signin.success' && e.actor === `user:${d.users.victor}`)).toBe(true);
    expect(events.some((e) => e.type === 'signin.failure' && e.actor === `user:${d.users.victor}`)).toBe(true);
    const all = JSON.stringify(events.map(({ id: _id, ...e }) => e));
    for (const secret of [PASSWORDS.victor, 'bad-password-for-audit', d.webapp.clientSecret]) expect(all).not.toContain(secret);
  });
  it('rehashes a password stored with other argon2 parameters at the next successful sign-in, not at a failed one', async () => {
    const prisma = d.server.tessera.db.prisma;
    // an address of its own: the earlier tests' failures count against the default one
    const from = { 'x-forwarded-for': '198.51.100.77' };
    const as = (password: string) => tokenRequest(d.token, { grant_type: 'password', username: 'victor', password }, d.webapp, from);
    const stored = async () => (await prisma.$queryRaw<{ h: string }[]>`SELECT password_hash AS h FROM users WHERE id = ${d.users.victor}`)[0]!.h;
    // the server hashes with m=8192,t=1 (TEST_ENV); an older deployment used m=4096,t=2
    const old = await argon2.hash(PASSWORDS.victor, { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    await prisma.$executeRaw`UPDATE users SET password_hash = ${old} WHERE id = ${d.users.victor}`;
    expect((await as('wrong-password-entirely')).status).toBe(400);
    expect(await stored()).toBe(old);
    expect((await as(PASSWORDS.victor)).status).toBe(200);
    const now = await stored();
    expect(now).not.toBe(old);
    expect(now).toMatch(/^\$argon2id\$v=19\$m=8192,p=\d+,t=1\$/);
    expect(await argon2.verify(now, PASSWORDS.victor)).toBe(true);
    // and the new hash signs in
    expect((await as(PASSWORDS.victor)).status).toBe(200);
    expect(await stored()).toBe(now);
  });
});
