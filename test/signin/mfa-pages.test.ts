/**
 * The second-factor steps of the browser sign-in and the account page, over plain HTTP (issue 16),
 * on every backend: what a browser sees, and what an attacker who skips, replays or forges a step
 * gets. (test/browser/mfa.test.ts drives the same pages in Chromium, with passkeys.)
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpSecret, stepAt, totpCode } from '../../src/security/totp.ts';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, Browser, expectPage, expectRedirect, startDept, type Dept, type Step } from '../helpers/department.ts';
import type { TenantServices } from '../../src/services/index.ts';

type Page = Extract<Step, { kind: 'page' }>;
const page = (step: Step, status: number, marker: string | RegExp): Page => {
  if (step.kind !== 'page') throw new Error(`expected a page with ${marker}, got a redirect to ${step.location.href}`);
  expect(step.status, step.html.slice(0, 400)).toBe(status);
  expect(step.html).toMatch(marker);
  return step;
};
const CODE_PAGE = 'Authentication code';
const secretOf = (html: string) => /id="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(html)![1]!.replaceAll(' ', '');

describe.each(BACKENDS)('second-factor pages on %s', (backend) => {
  let d: Dept;
  let s: TenantServices;
  let n = 0;
  // each browser comes from an address of its own: one test's failures must not lock the next
  let addresses = 0;
  const browser = () => new Browser(d, `198.18.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`);
  async function staff(roles: string[] = ['viewer'], extra: { temporaryPassword?: boolean } = {}) {
    const username = `page${++n}`;
    const password = `${username}-long-password`;
    const user = await s.users.create({ username, password, roles, ...extra });
    return { user, username, password };
  }
  async function withTotp(roles: string[] = ['viewer']) {
    const who = await staff(roles);
    const secret = generateTotpSecret();
    const enrolled = await s.mfa.enrolTotp({ id: who.user.id, recoveryCodesLeft: 0 }, secret, totpCode(secret, stepAt(Date.now()) - 1));
    if (!enrolled.ok) throw new Error(`enrolment refused: ${enrolled.reason}`);
    const { recoveryCodes } = enrolled;
    return { ...who, secret, recoveryCodes };
  }
  /** code → tokens at the token endpoint (the SPA is public, PKCE) */
  async function redeem(b: Browser, step: Step) {
    const code = expectRedirect(step).searchParams.get('code')!;
    const res = await tokenRequest(d.endpoint('token_endpoint'), {
      grant_type: 'authorization_code',
      client_id: d.spa.clientId,
      code,
      redirect_uri: d.spa.redirectUri,
      code_verifier: b.pkce.verifier,
    });
    expect(res.status).toBe(200);
    return { access: decodeJwt(res.body.access_token as string), id: decodeJwt(res.body.id_token as string), raw: res.body.access_token as string };
  }

  beforeAll(async () => {
    d = await startDept(backend, { TRUST_PROXY: 'true' });
    s = d.tessera.services.forTenant(d.tenantId);
  });
  afterAll(() => d?.stop());

  it('a user with TOTP gets the code page after the password; a wrong code is refused on the page; the tokens say mfa', async () => {
    const u = await withTotp();
    const b = browser();
    const codePage = page(await b.signIn(d.spa, u.username, u.password, 'openid outbreaks:read'), 200, CODE_PAGE);
    expect(codePage.html).toContain('<label for="code">Authentication code</label>');
    // no passkey: no script on the page, and the CSP allows none
    expect(codePage.html).not.toContain('<script');
    expect(codePage.headers.get('content-security-policy')).not.toContain('script-src');
    const wrong = page(
      await b.submit(codePage, 'code', { code: '999999' === totpCode(u.secret, stepAt(Date.now())) ? '888888' : '999999' }, d.spa.redirectUri),
      400,
      'That code is not valid',
    );
    expect(wrong.html).toContain('role="alert"');
    const { access, id } = await redeem(b, await b.submit(wrong, 'code', { code: totpCode(u.secret, stepAt(Date.now()) + 1) }, d.spa.redirectUri));
    expect(access.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(id.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(typeof access.auth_time).toBe('number');
    expect(id.auth_time).toBe(access.auth_time);
    expect(access.aud).toBe(API);
  });

  it('a step cannot be skipped: the other steps, a restart and a foreign browser all get the code page or a refusal, never a code', async () => {
    const u = await withTotp();
    const b = browser();
    const codePage = page(await b.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
    const csrf = /name="csrf" value="([^"]+)"/.exec(codePage.html)![1]!;
    const to = (action: string) => codePage.url.replace(/\/interaction\/([\w-]+).*$/, `/interaction/$1/${action}`);
    for (const action of ['enrol', 'continue', 'password']) {
      const fields = { csrf, code: totpCode(u.secret, stepAt(Date.now())), password: 'x-new-password-1', confirm: 'x-new-password-1' };
      page(await b.post(to(action), fields, d.spa.redirectUri), 200, CODE_PAGE);
    }
    // the password again does not start over (nor skip the code)
    page(await b.post(to('login'), { csrf, username: u.username, password: u.password }, d.spa.redirectUri), 200, CODE_PAGE);
    // a passkey answer that is no passkey is refused, on the code page
    page(await b.post(to('passkey'), { csrf, credential: '{"id":"forged"}' }, d.spa.redirectUri), 400, 'passkey could not be verified');
    expect((await s.users.get(u.user.id)).mfa.totp).toBe(true);
    // another browser cannot use this interaction, even with its CSRF token
    const other = browser();
    const stolen = await other.post(codePage.url.replace(/\/interaction\/([\w-]+).*$/, '/interaction/$1/code'), {
      csrf: /name="csrf" value="([^"]+)"/.exec(codePage.html)![1]!,
      code: totpCode(u.secret, stepAt(Date.now()) + 1),
    });
    expect(stolen.kind === 'page' && stolen.status >= 400).toBe(true);
    // a code step with no password step before it is refused
    const fresh = browser();
    const login = expectPage(await fresh.authorize(d.spa), 'login');
    const freshCsrf = /name="csrf" value="([^"]+)"/.exec(login.html)![1]!;
    const codeUrl = login.url.replace(/\/interaction\/([\w-]+).*$/, '/interaction/$1/code');
    page(await fresh.post(codeUrl, { csrf: freshCsrf, code: totpCode(u.secret, stepAt(Date.now()) + 1) }, d.spa.redirectUri), 400, 'expired');
  });

  it('guessing codes on the page locks the address like wrong passwords', async () => {
    const u = await withTotp();
    const b = browser();
    let current = page(await b.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
    const right = totpCode(u.secret, stepAt(Date.now()) + 1);
    // the address of the test process: 4 more failures reach the limit of 5
    for (const guess of ['000001', '000002', '000003', '000004', '000005'].filter((g) => g !== right).slice(0, 5)) {
      const next = await b.submit(current, 'code', { code: guess }, d.spa.redirectUri);
      if (next.kind === 'page' && next.status === 429) {
        current = next;
        break;
      }
      current = page(next, 400, 'That code is not valid');
    }
    const locked = page(await b.submit(current, 'code', { code: right }, d.spa.redirectUri), 429, 'locked');
    expect(locked.headers.get('retry-after')).toBeTruthy();
    expect((await s.audit.list({ actor: `user:${u.user.id}`, type: 'signin.mfa_failure' })).items.length).toBeGreaterThanOrEqual(4);
  });

  it('the policy makes an uncovered-by-a-factor user enrol before any code is issued; recovery codes are shown once', async () => {
    await d.tessera.services.tenants.update('dept', { mfa: { require: 'all' } });
    try {
      const u = await staff();
      const b = browser();
      const enrol = page(await b.signIn(d.spa, u.username, u.password), 200, 'id="totp-secret"');
      expect(enrol.html).toMatch(/<figure class="qr"><svg role="img" aria-label="QR code for your authenticator app"/);
      expect(enrol.html).toContain('otpauth://totp/');
      expect(enrol.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'self'/);
      const secret = secretOf(enrol.html);
      const wrong = page(await b.submit(enrol, 'enrol', { code: '12' }, d.spa.redirectUri), 400, 'does not match');
      // reloading shows the same secret (it waits sealed in the store for its first code)
      expect(secretOf(wrong.html)).toBe(secret);
      const codes = page(await b.submit(wrong, 'enrol', { code: totpCode(secret, stepAt(Date.now())) }, d.spa.redirectUri), 200, 'id="recovery-codes"');
      const shown = [...codes.html.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
      expect(shown).toHaveLength(10);
      // leaving and coming back does not show them again
      const again = page(await b.open(codes.url.replace(/\/interaction\/([\w-]+).*$/, '/interaction/$1')), 200, 'shown once');
      expect(again.html).not.toContain(shown[0]);
      const { access } = await redeem(b, await b.submit(codes, 'continue', {}, d.spa.redirectUri));
      expect(access.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect((await s.users.get(u.user.id)).mfa).toEqual({ totp: true, passkeys: 0, recoveryCodesLeft: 10 });
      expect((await s.audit.list({ target: u.user.id, type: 'mfa.enrolled' })).items).toHaveLength(1);
      // a recovery code signs in once
      const b2 = browser();
      const codePage = page(await b2.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
      expectRedirect(await b2.submit(codePage, 'code', { code: shown[3]! }, d.spa.redirectUri));
      const b3 = browser();
      const codePage3 = page(await b3.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
      page(await b3.submit(codePage3, 'code', { code: shown[3]! }, d.spa.redirectUri), 400, 'That code is not valid');
    } finally {
      await d.tessera.services.tenants.update('dept', { mfa: { require: 'none' } });
    }
  });

  it('a session from before the enrolment is asked to sign in again, with the code', async () => {
    const u = await staff();
    const b = browser();
    expectRedirect(await b.signIn(d.spa, u.username, u.password));
    // the session alone answers the next request while nothing changed
    expectRedirect(await b.authorize(d.spa));
    const secret = generateTotpSecret();
    await s.mfa.enrolTotp({ id: u.user.id, recoveryCodesLeft: 0 }, secret, totpCode(secret, stepAt(Date.now()) - 1));
    const login = expectPage(await b.authorize(d.spa), 'login');
    const codePage = page(await b.submit(login, 'login', { username: u.username, password: u.password }, d.spa.redirectUri), 200, CODE_PAGE);
    const { access } = await redeem(b, await b.submit(codePage, 'code', { code: totpCode(secret, stepAt(Date.now())) }, d.spa.redirectUri));
    expect(access.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('a temporary password is replaced before any code is issued; the new password must be acceptable and confirmed', async () => {
    const u = await staff(['viewer'], { temporaryPassword: true });
    const b = browser();
    const choose = page(await b.signIn(d.spa, u.username, u.password), 200, 'Choose a new password');
    page(await b.submit(choose, 'password', { password: 'one-long-password', confirm: 'another-long-one' }, d.spa.redirectUri), 400, 'do not match');
    page(await b.submit(choose, 'password', { password: 'password', confirm: 'password' }, d.spa.redirectUri), 400, 'role="alert"');
    page(await b.submit(choose, 'password', { password: u.password, confirm: u.password }, d.spa.redirectUri), 400, 'must differ');
    await redeem(b, await b.submit(choose, 'password', { password: 'my-own-new-passphrase', confirm: 'my-own-new-passphrase' }, d.spa.redirectUri));
    expect((await s.users.get(u.user.id)).temporaryPassword).toBe(false);
    const grant = (password: string) =>
      tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'password', username: u.username, password }, d.webapp, { 'x-forwarded-for': '192.0.2.201' });
    expect((await grant('my-own-new-passphrase')).status).toBe(200);
    expect((await grant(u.password)).status).toBe(400);
    expect((await s.audit.list({ target: u.user.id, type: 'password.changed' })).items[0]).toMatchObject({
      actor: `user:${u.user.id}`,
      data: { reason: 'temporary' },
    });
  });

  it('the account page signs in through the tenant login and acts only with the session, CSRF token and current password', async () => {
    const u = await withTotp();
    const b = browser();
    const account = `${d.issuer}/account`;
    const start = await fetch(`${d.local}/t/dept/account`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    expect(start.headers.get('location')).toMatch(
      /^\/t\/dept\/auth\?client_id=tessera-account&response_type=code&scope=openid&redirect_uri=.*code_challenge_method=S256$/,
    );
    const login = expectPage(await b.open(account), 'login');
    const codePage = page(await b.submit(login, 'login', { username: u.username, password: u.password }, 'https://nowhere.invalid/'), 200, CODE_PAGE);
    const home = page(await b.submit(codePage, 'code', { code: totpCode(u.secret, stepAt(Date.now()) + 1) }, 'https://nowhere.invalid/'), 200, 'Your account');
    expect(home.html).toContain(`Signed in as <strong>${u.username}</strong>`);
    expect(home.html).toContain('Recent sign-ins');
    expect(home.html).toMatch(/with two-step verification/);
    expect(home.html).toContain('data-webauthn="register"');
    // the callback is not reusable and needs this browser's state
    page(await browser().open(`${account}/callback?code=x&state=y`), 400, 'expired');

    const csrf = /name="csrf" value="([^"]+)"/.exec(home.html)![1]!;
    // forged: no token, or another browser's token
    page(await b.post(`${account}/recovery-codes`, { current: u.password }), 403, 'could not be verified');
    page(await browser().post(`${account}/recovery-codes`, { csrf, current: u.password }), 401, 'session has ended');
    // the current password is asked again
    page(await b.post(`${account}/recovery-codes`, { csrf, current: 'not-my-password' }), 400, 'current password is not correct');
    const codes = page(await b.post(`${account}/recovery-codes`, { csrf, current: u.password }), 200, 'id="recovery-codes"');
    const fresh = [...codes.html.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(u.recoveryCodes[0]);

    // a password change ends the user's refresh tokens and other sessions, not this one
    const grant = await tokenRequest(
      d.endpoint('token_endpoint'),
      { grant_type: 'password', username: u.username, password: u.password, otp: fresh[0]! },
      d.webapp,
      { 'x-forwarded-for': '192.0.2.202' },
    );
    expect(grant.status).toBe(200);
    const other = browser();
    const otherCode = page(await other.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
    expectRedirect(await other.submit(otherCode, 'code', { code: fresh[1]! }, d.spa.redirectUri));
    page(
      await b.post(`${account}/password`, { csrf, current: u.password, password: 'a-new-pass-phrase', confirm: 'a-new-pass-phrase' }),
      200,
      'Your password was changed',
    );
    const refreshed = await tokenRequest(
      d.endpoint('token_endpoint'),
      { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token as string },
      d.webapp,
    );
    expect(refreshed.status).toBe(400);
    expect((await tokenRequest(`${d.local}/t/dept/token/introspection`, { token: grant.body.access_token as string }, d.webapp)).body.active).toBe(false);
    // the other browser's session is gone: it must sign in again
    expectPage(await other.authorize(d.spa), 'login');
    // this one goes on
    page(await b.open(account), 200, 'Your account');
    // removing the authenticator asks for the (new) password
    page(await b.post(`${account}/totp/remove`, { csrf, current: u.password }), 400, 'current password is not correct');
    page(await b.post(`${account}/totp/remove`, { csrf, current: 'a-new-pass-phrase' }), 200, 'authenticator app was removed');
    expect((await s.users.get(u.user.id)).mfa.totp).toBe(false);
    expect((await s.audit.list({ target: u.user.id, type: 'mfa.removed' })).items).toHaveLength(1);
  });

  it("a sign-in left half-done does not go on after the account changed: it cannot enrol its own app over the user's", async () => {
    await d.tessera.services.tenants.update('dept', { mfa: { require: 'all' } });
    try {
      const u = await staff();
      const attacker = browser();
      const enrol = page(await attacker.signIn(d.spa, u.username, u.password), 200, 'id="totp-secret"');
      const theirs = secretOf(enrol.html);
      // meanwhile the user enrols their own app
      const own = generateTotpSecret();
      expect((await s.mfa.enrolTotp({ id: u.user.id, recoveryCodesLeft: 0 }, own, totpCode(own, stepAt(Date.now()) - 1))).ok).toBe(true);
      page(await attacker.submit(enrol, 'enrol', { code: totpCode(theirs, stepAt(Date.now())) }, d.spa.redirectUri), 403, 'changed while you were signing in');
      // the user's app is still the one that works
      const b = browser();
      const codePage = page(await b.signIn(d.spa, u.username, u.password), 200, CODE_PAGE);
      expectRedirect(await b.submit(codePage, 'code', { code: totpCode(own, stepAt(Date.now())) }, d.spa.redirectUri));
      // nor when the account comes back to the same shape: the attacker stopped at the recovery
      // codes of their own app, an admin reset it, the user enrolled theirs
      const w = await staff();
      const stopped = browser();
      const enrolW = page(await stopped.signIn(d.spa, w.username, w.password), 200, 'id="totp-secret"');
      const codesPage = page(
        await stopped.submit(enrolW, 'enrol', { code: totpCode(secretOf(enrolW.html), stepAt(Date.now())) }, d.spa.redirectUri),
        200,
        'id="recovery-codes"',
      );
      await s.mfa.reset(w.user.id);
      const mine = generateTotpSecret();
      expect((await s.mfa.enrolTotp({ id: w.user.id, recoveryCodesLeft: 0 }, mine, totpCode(mine, stepAt(Date.now()) - 1))).ok).toBe(true);
      page(await stopped.submit(codesPage, 'continue', {}, d.spa.redirectUri), 403, 'changed');
      // a half-done sign-in does not outlive an admin's password change either
      const v = await staff();
      const stale = browser();
      const enrolV = page(await stale.signIn(d.spa, v.username, v.password), 200, 'id="totp-secret"');
      await s.users.update(v.user.id, { password: 'an-admin-set-password' });
      page(await stale.submit(enrolV, 'enrol', { code: totpCode(secretOf(enrolV.html), stepAt(Date.now())) }, d.spa.redirectUri), 403, 'changed');
      expect((await s.users.get(v.user.id)).mfa.totp).toBe(false);
    } finally {
      await d.tessera.services.tenants.update('dept', { mfa: { require: 'none' } });
    }
  });

  it('a temporary password of a user with a factor is replaced only after the code', async () => {
    const u = await withTotp();
    await s.users.update(u.user.id, { password: 'temporary-pass-123', temporaryPassword: true });
    const b = browser();
    const codePage = page(await b.signIn(d.spa, u.username, 'temporary-pass-123'), 200, CODE_PAGE);
    // the password step cannot be taken first
    const csrf = /name="csrf" value="([^"]+)"/.exec(codePage.html)![1]!;
    const to = (action: string) => codePage.url.replace(/\/interaction\/([\w-]+).*$/, `/interaction/$1/${action}`);
    page(await b.post(to('password'), { csrf, password: 'chosen-by-thief-1', confirm: 'chosen-by-thief-1' }, d.spa.redirectUri), 200, CODE_PAGE);
    expect((await s.users.get(u.user.id)).temporaryPassword).toBe(true);
    const choose = page(
      await b.submit(codePage, 'code', { code: totpCode(u.secret, stepAt(Date.now()) + 1) }, d.spa.redirectUri),
      200,
      'Choose a new password',
    );
    const { access, raw } = await redeem(
      b,
      await b.submit(choose, 'password', { password: 'my-chosen-passphrase', confirm: 'my-chosen-passphrase' }, d.spa.redirectUri),
    );
    expect(access.amr).toEqual(['pwd', 'otp', 'mfa']);
    // its tokens are not born revoked by the password change
    expect((await tokenRequest(`${d.local}/t/dept/token/introspection`, { token: raw }, d.webapp)).body.active).toBe(true);
  });

  it('the account page wants a session with the factor the user has, and the current password to add one', async () => {
    const u = await staff();
    const b = browser();
    const account = `${d.issuer}/account`;
    const login = expectPage(await b.open(account), 'login');
    const home = page(await b.submit(login, 'login', { username: u.username, password: u.password }, 'https://nowhere.invalid/'), 200, 'Your account');
    const csrf = /name="csrf" value="([^"]+)"/.exec(home.html)![1]!;
    // setting up an app asks for the current password
    const enrol = page(await b.open(`${account}/totp`), 200, 'id="totp-secret"');
    const secret = secretOf(enrol.html);
    page(
      await b.post(`${account}/totp`, { csrf, code: totpCode(secret, stepAt(Date.now())), current: 'wrong-password-x' }),
      400,
      'current password is not correct',
    );
    expect((await s.users.get(u.user.id)).mfa.totp).toBe(false);
    page(await b.post(`${account}/totp`, { csrf, code: totpCode(secret, stepAt(Date.now())), current: u.password }), 200, 'id="recovery-codes"');
    // this session proved the code: it goes on; a second app cannot replace the first
    page(await b.open(`${account}/totp`), 400, 'set up already');
    // a password-only session made before the user enrolled is sent to sign in again
    const v = await staff();
    const vb = browser();
    const vLogin = expectPage(await vb.open(account), 'login');
    page(await vb.submit(vLogin, 'login', { username: v.username, password: v.password }, 'https://nowhere.invalid/'), 200, 'Your account');
    const vs = generateTotpSecret();
    expect((await s.mfa.enrolTotp({ id: v.user.id, recoveryCodesLeft: 0 }, vs, totpCode(vs, stepAt(Date.now()) - 1))).ok).toBe(true);
    const res = await fetch(`${d.local}/t/dept/account`, { redirect: 'manual', headers: { cookie: vb.jar.header() } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('prompt=login');
    page(await vb.post(`${account}/recovery-codes`, { csrf: 'x', current: v.password }), 401, 'session has ended');
  });
});
