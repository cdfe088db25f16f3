/**
 * Second factors over HTTP (issue 16), on every backend: the password grant's `otp` (TOTP and
 * recovery codes, missing, wrong, replayed, 40 at once, guessed), the tenant MFA policy and the
 * attempts to get around it through the token endpoint, temporary passwords, `amr`/`auth_time` in
 * tokens and introspection, and the admin API's policy, user view and factor reset.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepAt, totpCode, generateTotpSecret } from '../../src/security/totp.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { PASSWORDS, startDepartment, type Department } from './fixture.ts';

const now = () => Date.now();

describe.each(BACKENDS)('second factors on %s', (backend) => {
  let d: Department;
  let admin: ReturnType<typeof adminClient>;
  let introspection: string;
  let n = 0;
  /** a new staff member of `dept` with these roles, and the services to act on them */
  async function staff(roles: string[] = ['viewer'], extra: { temporaryPassword?: boolean } = {}) {
    const s = d.server.tessera.services.forTenant(d.tenantId);
    const username = `staff${++n}`;
    const password = `${username}-long-password`;
    const user = await s.users.create({ username, password, roles, ...extra });
    return { s, user, username, password };
  }
  /** a staff member with an authenticator app (secret known to the test) and recovery codes */
  async function enrolled(roles: string[] = ['viewer']) {
    const who = await staff(roles);
    const secret = generateTotpSecret();
    // the enrolment's own code uses the previous step, so the current one is still free to use
    const enrolled = await who.s.mfa.enrolTotp({ id: who.user.id, recoveryCodesLeft: 0 }, secret, totpCode(secret, stepAt(now()) - 1));
    if (!enrolled.ok) throw new Error(`enrolment refused: ${enrolled.reason}`);
    const { recoveryCodes } = enrolled;
    return { ...who, secret, recoveryCodes };
  }
  // each user signs in from an address of its own: the failures one test provokes on purpose
  // must not lock the address of the next (the guard allows 5 per address)
  const addressOf = (username: string) =>
    `10.${[...username].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 65536, 7) >> 8}.${[...username].reduce((h, c) => (h * 17 + c.charCodeAt(0)) % 256, 3)}.9`;
  const grant = (username: string, password: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    tokenRequest(d.token, { grant_type: 'password', username, password, ...extra }, d.webapp, { 'x-forwarded-for': addressOf(username), ...headers });
  const introspect = async (token: string) => {
    const res = await tokenRequest(introspection, { token }, d.webapp);
    return res.body;
  };

  beforeAll(async () => {
    d = await startDepartment(backend);
    admin = adminClient(d.server.url, await adminToken(d.server.url, 'system', 'admin', ADMIN_PASSWORD));
    introspection = `${d.server.url}/t/dept/token/introspection`;
  });
  afterAll(() => d?.server.stop());

  it('a user without a factor signs in with the password alone; the token says amr pwd and auth_time', async () => {
    const before = Math.floor(now() / 1000);
    const res = await grant('alice', PASSWORDS.alice);
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token as string);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.auth_time).toBeLessThanOrEqual(Math.floor(now() / 1000));
    expect(await introspect(res.body.access_token as string)).toMatchObject({ active: true, amr: ['pwd'], auth_time: claims.auth_time });
  });

  it('a user with TOTP must send otp: missing or wrong is the same invalid_grant as a wrong password', async () => {
    const u = await enrolled();
    const wrongPassword = await grant(u.username, 'not-the-password', { otp: totpCode(u.secret, stepAt(now())) });
    const missing = await grant(u.username, u.password);
    const wrong = await grant(u.username, u.password, { otp: '000000' === totpCode(u.secret, stepAt(now())) ? '111111' : '000000' });
    const garbage = await grant(u.username, u.password, { otp: 'not a code at all' });
    for (const res of [wrongPassword, missing, wrong, garbage]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    }
    const ok = await grant(u.username, u.password, { otp: totpCode(u.secret, stepAt(now())) });
    expect(ok.status).toBe(200);
    const claims = decodeJwt(ok.body.access_token as string);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(typeof claims.auth_time).toBe('number');
    expect(await introspect(ok.body.access_token as string)).toMatchObject({ active: true, amr: ['pwd', 'otp', 'mfa'] });
    // the refresh token keeps how the user signed in, and so do the tokens it gives
    const refreshed = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token as string }, d.webapp);
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], auth_time: claims.auth_time });
    expect(await introspect(refreshed.body.refresh_token as string)).toMatchObject({ active: true, amr: ['pwd', 'otp', 'mfa'], auth_time: claims.auth_time });
    // the audit trail tells the missing code from the wrong one, and never holds a code
    const audit = await u.s.audit.list({ actor: `user:${u.user.id}`, type: 'signin.mfa_failure' });
    expect(audit.items.map((e) => (e.data as { reason: string }).reason).sort()).toEqual(['invalid_code', 'invalid_code', 'missing_code']);
    expect(JSON.stringify(audit.items)).not.toContain(u.secret);
  });

  it('a TOTP code is accepted once: a replay in the same window is refused', async () => {
    const u = await enrolled();
    const code = totpCode(u.secret, stepAt(now()));
    expect((await grant(u.username, u.password, { otp: code })).status).toBe(200);
    const replay = await grant(u.username, u.password, { otp: code });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // an earlier step's code is refused too once a later one was used
    expect((await grant(u.username, u.password, { otp: totpCode(u.secret, stepAt(now()) - 1) })).status).toBe(400);
  });

  it('of 40 parallel requests with one valid code exactly one gets a token', async () => {
    const u = await enrolled();
    const code = totpCode(u.secret, stepAt(now()));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => grant(u.username, u.password, { otp: code }, { 'x-forwarded-for': `203.0.113.${i + 1}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect([400, 429]).toContain(r.status);
  });

  it('a recovery code works once, in any case and with or without its dash', async () => {
    const u = await enrolled();
    expect(u.recoveryCodes).toHaveLength(10);
    const [first, second] = u.recoveryCodes as [string, string];
    const ok = await grant(u.username, u.password, { otp: first });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token as string).amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await grant(u.username, u.password, { otp: first })).status).toBe(400);
    expect((await grant(u.username, u.password, { otp: second.replace('-', '').toUpperCase() })).status).toBe(200);
    expect((await u.s.users.get(u.user.id)).mfa).toEqual({ totp: true, passkeys: 0, recoveryCodesLeft: 8 });
    // 40 parallel uses of one recovery code: exactly one
    const third = u.recoveryCodes[2]!;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => grant(u.username, u.password, { otp: third }, { 'x-forwarded-for': `198.51.100.${i + 1}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('guessing codes with the right password is stopped by the brute-force guard (5 per address)', async () => {
    const u = await enrolled();
    const right = totpCode(u.secret, stepAt(now()));
    const guesses = ['000001', '000002', '000003', '000004', '000005'].filter((g) => g !== right);
    const from = { 'x-forwarded-for': '192.0.2.77' };
    for (const g of guesses.slice(0, 5)) expect((await grant(u.username, u.password, { otp: g }, from)).status).toBe(400);
    const locked = await grant(u.username, u.password, { otp: right }, from);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBeTruthy();
    const audit = await u.s.audit.list({ actor: `user:${u.user.id}`, type: 'signin.lockout' });
    expect(audit.items.length).toBeGreaterThanOrEqual(1);
  });

  it('the tenant policy cannot be bypassed through the token endpoint', async () => {
    const analyst = await staff(['analyst']);
    const viewer = await staff(['viewer']);
    const set = (mfa: unknown) => admin('PATCH', '/tenants/dept', { mfa });
    try {
      expect((await set({ require: 'roles', roles: ['analyst'] })).status).toBe(200);
      const refused = await grant(analyst.username, analyst.password);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_grant');
      expect(refused.body.error_description).toMatch(/sign in through the browser/);
      // a wrong password still gets the generic answer (the description is no oracle for guessers)
      expect((await grant(analyst.username, 'wrong-password-here')).body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
      // an otp does not help a user who has no factor
      expect((await grant(analyst.username, analyst.password, { otp: '123456' })).status).toBe(400);
      expect((await grant(viewer.username, viewer.password)).status).toBe(200);
      expect((await set({ require: 'all' })).status).toBe(200);
      expect((await grant(viewer.username, viewer.password)).status).toBe(400);
      // an enrolled user is covered and signs in with the code
      const e = await enrolled(['analyst']);
      expect((await grant(e.username, e.password, { otp: totpCode(e.secret, stepAt(now())) })).status).toBe(200);
    } finally {
      expect((await set({ require: 'none' })).status).toBe(200);
    }
    expect((await grant(analyst.username, analyst.password)).status).toBe(200);
  });

  it('a temporary password cannot get a token until it is replaced in the browser', async () => {
    const t = await staff(['viewer'], { temporaryPassword: true });
    expect((await t.s.users.get(t.user.id)).temporaryPassword).toBe(true);
    const res = await grant(t.username, t.password);
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/temporary/);
    // an admin's later password is final unless marked temporary
    await t.s.users.update(t.user.id, { password: 'a-final-password-1' });
    expect((await grant(t.username, 'a-final-password-1')).status).toBe(200);
    await t.s.users.update(t.user.id, { password: 'a-temporary-one-2', temporaryPassword: true });
    expect((await grant(t.username, 'a-temporary-one-2')).status).toBe(400);
  });

  it('admin API: the policy is validated and shown; the user view shows the factors; a reset removes them', async () => {
    const bad = [{ require: 'roles' }, { require: 'roles', roles: ['no-such-role'] }, { require: 'all', roles: ['analyst'] }, { require: 'sometimes' }];
    for (const mfa of bad) {
      const res = await admin('PATCH', '/tenants/dept', { mfa });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const ok = await admin('PATCH', '/tenants/dept', { mfa: { require: 'roles', roles: ['analyst', 'analyst'] } });
    expect(ok.status).toBe(200);
    expect(ok.body.mfa).toEqual({ require: 'roles', roles: ['analyst'] });
    expect((await admin('GET', '/tenants/dept')).body.mfa).toEqual({ require: 'roles', roles: ['analyst'] });
    expect((await admin('PATCH', '/tenants/dept', { mfa: { require: 'none' } })).body.mfa).toEqual({ require: 'none', roles: [] });

    const u = await enrolled();
    const view = await admin('GET', `/tenants/dept/users/${u.user.id}`);
    expect(view.body.mfa).toEqual({ totp: true, passkeys: 0, recoveryCodesLeft: 10 });
    expect(JSON.stringify(view.body)).not.toContain(u.secret);
    expect((await admin('DELETE', `/tenants/dept/users/${u.user.id}/mfa`)).status).toBe(204);
    expect((await admin('GET', `/tenants/dept/users/${u.user.id}`)).body.mfa).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    expect((await grant(u.username, u.password)).status).toBe(200);
    const audit = await u.s.audit.list({ type: 'mfa.reset', target: u.user.id });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ data: { totp: 1, passkeys: 0, recoveryCodes: 10, sessions_ended: true } });
    expect((await admin('DELETE', '/tenants/dept/users/00000000-0000-0000-0000-000000000000/mfa')).status).toBe(404);
  });

  it('a refresh token from a sign-in without the factor now needed is refused (a policy change, an enrolment)', async () => {
    const v = await staff(['viewer']);
    const first = await grant(v.username, v.password);
    expect(first.status).toBe(200);
    expect((await admin('PATCH', '/tenants/dept', { mfa: { require: 'all' } })).status).toBe(200);
    try {
      const refused = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, d.webapp);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_grant');
    } finally {
      expect((await admin('PATCH', '/tenants/dept', { mfa: { require: 'none' } })).status).toBe(200);
    }
    // the password-only sign-in is over for good: its grant was revoked, also under the old rule again
    expect((await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, d.webapp)).status).toBe(400);
    expect((await introspect(first.body.access_token as string)).active).toBe(false);
    const again = await grant(v.username, v.password);
    expect(again.status).toBe(200);
    // the user enrols: their password-only refresh token is done
    const secret = generateTotpSecret();
    expect((await v.s.mfa.enrolTotp({ id: v.user.id, recoveryCodesLeft: 0 }, secret, totpCode(secret, stepAt(now()) - 1))).ok).toBe(true);
    const after = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: again.body.refresh_token as string }, d.webapp);
    expect(after.status).toBe(400);
    // the whole password-only sign-in is over: its access token too, and a replay of an older refresh token
    expect((await introspect(again.body.access_token as string)).active).toBe(false);
    expect((await introspect(again.body.refresh_token as string)).active).toBe(false);
    // one from a sign-in with the code goes on
    const strong = await grant(v.username, v.password, { otp: totpCode(secret, stepAt(now())) });
    expect(strong.status).toBe(200);
    expect((await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: strong.body.refresh_token as string }, d.webapp)).status).toBe(200);
  });

  it('after 10 wrong app codes in a row even the right one is refused, until a recovery code signs in', async () => {
    const u = await enrolled();
    const right = () => totpCode(u.secret, stepAt(now()));
    // from 10 addresses (the guard's per-address limit is not what stops this)
    for (let i = 0; i < 10; i++) {
      const wrong = String((Number(right()) + 500_000 + i) % 1_000_000).padStart(6, '0');
      expect((await grant(u.username, u.password, { otp: wrong }, { 'x-forwarded-for': `192.0.2.${120 + i}` })).status).toBe(400);
    }
    const blocked = await grant(u.username, u.password, { otp: right() }, { 'x-forwarded-for': '192.0.2.140' });
    expect(blocked.status).toBe(400);
    expect(blocked.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    expect((await u.s.audit.list({ target: u.user.id, type: 'mfa.totp_blocked' })).items).toHaveLength(1);
    // a recovery code signs in and opens the app's codes again
    expect((await grant(u.username, u.password, { otp: u.recoveryCodes[0]! }, { 'x-forwarded-for': '192.0.2.141' })).status).toBe(200);
    expect((await grant(u.username, u.password, { otp: totpCode(u.secret, stepAt(now()) + 1) }, { 'x-forwarded-for': '192.0.2.142' })).status).toBe(200);
  });

  it('of 15 parallel wrong app codes, exactly the one that reaches the limit records the block', async () => {
    const u = await enrolled();
    const right = Number(totpCode(u.secret, stepAt(now())));
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        grant(u.username, u.password, { otp: String((right + 500_000 + i) % 1_000_000).padStart(6, '0') }, { 'x-forwarded-for': `192.0.2.${160 + i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(15).fill(400));
    // every request read the count before it wrote: the audit follows the count each write reached
    expect((await u.s.audit.list({ target: u.user.id, type: 'mfa.totp_blocked' })).items).toHaveLength(1);
  });

  it('a factor is added only if nothing changed how the user signs in since the caller read the account', async () => {
    const u = await staff();
    const seen = await u.s.users.get(u.user.id);
    const row = await d.server.tessera.services.forTenant(d.tenantId);
    const before = (await d.server.tessera.db.prisma.user.findUnique({ where: { id: u.user.id }, select: { securityVersion: true } }))!.securityVersion;
    expect(seen.mfa.totp).toBe(false);
    // an admin's reset (or a password change) lands between the read and the enrolment
    await row.mfa.reset(u.user.id);
    const secret = generateTotpSecret();
    const stale = await u.s.mfa.enrolTotp({ id: u.user.id, recoveryCodesLeft: 0, securityVersion: before }, secret, totpCode(secret, stepAt(now())));
    expect(stale).toEqual({ ok: false, reason: 'changed' });
    expect((await u.s.users.get(u.user.id)).mfa.totp).toBe(false);
    const current = (await d.server.tessera.db.prisma.user.findUnique({ where: { id: u.user.id }, select: { securityVersion: true } }))!.securityVersion;
    expect(current).toBeGreaterThan(before);
    expect((await u.s.mfa.enrolTotp({ id: u.user.id, recoveryCodesLeft: 0, securityVersion: current }, secret, totpCode(secret, stepAt(now())))).ok).toBe(true);
  });

  it("an admin's reset of the factors ends the user's refresh tokens", async () => {
    const u = await enrolled();
    const signedIn = await grant(u.username, u.password, { otp: totpCode(u.secret, stepAt(now())) });
    expect(signedIn.status).toBe(200);
    expect((await admin('DELETE', `/tenants/dept/users/${u.user.id}/mfa`)).status).toBe(204);
    const refreshed = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: signedIn.body.refresh_token as string }, d.webapp);
    expect(refreshed.status).toBe(400);
    expect((await u.s.audit.list({ type: 'mfa.reset', target: u.user.id })).items[0]).toMatchObject({ data: { sessions_ended: true } });
  });
});
