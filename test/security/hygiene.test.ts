/**
 * Audit finding 11 (issue 13), hygiene: usernames unique and matched case-insensitively after
 * Unicode NFC; the password policy (length, the commonly used passwords, not the username); a typed
 * username that is no user never stored verbatim in the audit trail; introspection refusing Basic
 * credentials with a different body client_id; a wrong code_verifier burning the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { PASSWORDS, SPA, browse, passwordGrant, pkcePair, redeem, startDept, type Dept } from './support.ts';

describe.each(BACKENDS)('hygiene on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend);
  });
  afterAll(() => d?.server.stop());

  it('treats usernames case-insensitively after Unicode NFC', async () => {
    const composed = await d.boss('POST', '/tenants/dept/users', { username: 'Émile', password: 'emile-long-password', roles: ['viewer'] });
    expect(composed.status).toBe(201);
    expect(composed.body.username).toBe('Émile');
    // the same name in another case, or decomposed (E + combining acute), is the same user
    for (const username of ['émile', 'ÉMILE', 'E\u0301mile', 'ALICE']) {
      const res = await d.boss('POST', '/tenants/dept/users', { username, password: 'another-long-password', roles: [] });
      expect(res.status, username).toBe(409);
    }
    for (const username of ['émile', 'E\u0301MILE']) {
      expect((await passwordGrant(d, username, 'emile-long-password')).status, username).toBe(200);
    }
  });

  it('refuses common passwords, short ones and the username, with a clear 400', async () => {
    const cases: [string, string, RegExp][] = [
      ['pat', 'password123', /commonly used/],
      ['pat', 'Qwertyuiop', /commonly used/],
      ['pat', 'short', /at least 8/],
      ['patricia-long', 'Patricia-Long', /username/],
    ];
    for (const [username, password, message] of cases) {
      const res = await d.boss('POST', '/tenants/dept/users', { username, password, roles: [] });
      expect(res.status, password).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors, password).toEqual([{ path: 'password', message: expect.stringMatching(message) }]);
    }
    // the same rule for a password change and for a tenant's first admin
    const change = await d.boss('PATCH', `/tenants/dept/users/${d.users.victor}`, { password: 'iloveyou1' });
    expect(change.status).toBe(400);
    const tenant = await d.platform('POST', '/tenants', { slug: 'weak', name: 'Weak', admin: { username: 'boss', password: 'football1' } });
    expect(tenant.status).toBe(400);
    expect(await d.server.tessera.db.prisma.tenant.count({ where: { slug: 'weak' } })).toBe(0);
    // a long passphrase is fine
    expect((await d.boss('POST', '/tenants/dept/users', { username: 'pat', password: 'correct horse battery staple', roles: [] })).status).toBe(201);
  });

  it('never stores a typed username that is no user (it may be a password) in the audit trail', async () => {
    const typed = 'Tr0ub4dor&3-typed-into-the-username-field';
    expect((await passwordGrant(d, typed, 'anything-at-all')).status).toBe(400);
    const rows = await d.server.tessera.db.prisma.auditEvent.findMany({
      where: { tenantId: d.tenantId },
      select: { actor: true, target: true, data: true, requestId: true },
    });
    expect(JSON.stringify(rows)).not.toContain(typed);
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(typed.toLowerCase());
    // admins still find those attempts by the name
    const found = await d.boss('GET', `/tenants/dept/audit-events?actor=${encodeURIComponent(`username:${typed}`)}`);
    expect(found.status).toBe(200);
    expect(found.body.items).toHaveLength(1);
    expect(found.body.items![0]).toMatchObject({ type: 'signin.failure', actor: expect.stringMatching(/^username:[\w-]{22}$/) });
    // a failure of a known user names the user by id
    expect((await passwordGrant(d, 'alice', 'wrong-password')).status).toBe(400);
    const alice = await d.boss('GET', `/tenants/dept/audit-events?actor=user:${d.users.alice}&type=signin.failure`);
    expect(alice.body.items).toHaveLength(1);
  });

  it('refuses introspection with Basic credentials and a different body client_id', async () => {
    const at = (await passwordGrant(d, 'alice', PASSWORDS.alice)).body.access_token as string;
    const res = await tokenRequest(d.disco.introspection_endpoint!, { token: at, client_id: d.webapp.clientId }, d.introspector);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    // the same client id in both places is fine
    const ok = await tokenRequest(d.disco.introspection_endpoint!, { token: at, client_id: d.introspector.clientId }, d.introspector);
    expect(ok.body.active).toBe(true);
  });

  it('burns a code redeemed with the wrong code_verifier', async () => {
    const pkce = pkcePair();
    const flow = await browse(d, {
      clientId: d.spa.clientId,
      redirectUri: SPA,
      username: 'alice',
      password: PASSWORDS.alice,
      scope: 'openid outbreaks:read',
      challenge: pkce.challenge,
    });
    const wrong = await redeem(d, d.spa.clientId, SPA, flow.code!, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await redeem(d, d.spa.clientId, SPA, flow.code!, pkce.verifier);
    expect(right.status).toBe(400);
    expect(right.body.error).toBe('invalid_grant');
  });
});
