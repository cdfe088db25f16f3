/**
 * README promises on lifetimes in the browser sign-in: an authorization code lives 60 s;
 * SESSION_TTL is the sign-in session's lifetime; INTERACTION_TTL the time one login/consent may
 * take. No test sleeps: the stored artifacts (oidc_artifacts) are made older in the database, the
 * row's expiry and the payload's iat/exp alike, as if they had been issued that long ago.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ageArtifact, Browser, expectPage, expectRedirect, lastSetCookie, PASSWORDS, readArtifact, startDept, type Dept } from '../helpers/department.ts';

const SESSION_TTL = 120;
const INTERACTION_TTL = 90;

/** the `expires` attribute of a Set-Cookie line, as epoch milliseconds */
const cookieExpiry = (line: string | undefined) => {
  const m = /;\s*expires=([^;]+)/i.exec(line ?? '');
  if (!m) throw new Error(`no expires attribute in ${line}`);
  return Date.parse(m[1]!);
};
const cookieValue = (line: string | undefined) => {
  if (!line) throw new Error('no such cookie');
  return line.slice(line.indexOf('=') + 1, line.indexOf(';'));
};
/** the interaction uid of a login or consent page */
const uidOf = (html: string) => /\/interaction\/([\w-]+)\/login"/.exec(html)?.[1] ?? /\/interaction\/([\w-]+)\/confirm"/.exec(html)![1]!;

describe.each(BACKENDS)('lifetimes on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend, { SESSION_TTL: String(SESSION_TTL), INTERACTION_TTL: String(INTERACTION_TTL) });
  });
  afterAll(() => d?.stop());

  const code = async () => {
    const browser = new Browser(d);
    const value = expectRedirect(await browser.signIn(d.spa, 'alice', PASSWORDS.alice)).searchParams.get('code')!;
    return {
      value,
      redeem: () =>
        tokenRequest(d.endpoint('token_endpoint'), {
          grant_type: 'authorization_code',
          client_id: d.spa.clientId,
          code: value,
          redirect_uri: d.spa.redirectUri,
          code_verifier: browser.pkce.verifier,
        }),
    };
  };

  // README: "A code is single-use and lives 60 s: redeeming it twice fails with `invalid_grant`
  // and revokes the tokens issued from it"
  it('stores an authorization code with an expiry 60 s after it was issued', async () => {
    const c = await code();
    const stored = await readArtifact(d.tessera, d.tenantId, 'AuthorizationCode', c.value);
    expect(stored).toBeDefined();
    const iat = stored!.payload.iat as number;
    expect(stored!.payload.exp).toBe(iat + 60);
    const rowLifetimeMs = stored!.expiresAt!.getTime() - iat * 1000;
    expect(rowLifetimeMs).toBeGreaterThanOrEqual(60_000);
    expect(rowLifetimeMs).toBeLessThan(62_000);
  });

  it('redeems a code 50 s after it was issued', async () => {
    const c = await code();
    expect(await ageArtifact(d.tessera, d.tenantId, 'AuthorizationCode', c.value, 50)).toBe(1);
    const res = await c.redeem();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(typeof res.body.access_token).toBe('string');
  });

  it('refuses a code 61 s after it was issued with invalid_grant', async () => {
    const c = await code();
    expect(await ageArtifact(d.tessera, d.tenantId, 'AuthorizationCode', c.value, 61)).toBe(1);
    const res = await c.redeem();
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.body.access_token).toBeUndefined();
  });

  // README: "**Lifetimes**: `SESSION_TTL` (default `28800`, 8 h) for the sign-in session"; the
  // configuration table: "browser sign-in session lifetime" ("after it, the login page asks
  // again", src/config)
  it('keeps the sign-in session SESSION_TTL seconds: stored expiry and cookie expiry', async () => {
    const browser = new Browser(d);
    const before = Date.now();
    expectRedirect(await browser.signIn(d.spa, 'alice', PASSWORDS.alice));
    const line = lastSetCookie(browser.setCookies, '_session');
    const stored = await readArtifact(d.tessera, d.tenantId, 'Session', cookieValue(line));
    expect(stored?.payload.accountId).toBe(d.users.alice);
    const exp = stored!.payload.exp as number;
    expect(exp * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + SESSION_TTL * 1000);
    expect(exp * 1000).toBeLessThanOrEqual(Date.now() + SESSION_TTL * 1000 + 1000);
    expect(Math.abs(cookieExpiry(line) - exp * 1000)).toBeLessThanOrEqual(1000);
  });

  it('signs in silently within SESSION_TTL and asks for the password again once it has passed', async () => {
    const browser = new Browser(d);
    expectRedirect(await browser.signIn(d.spa, 'alice', PASSWORDS.alice));
    const session = cookieValue(lastSetCookie(browser.setCookies, '_session'));
    // 100 s into a 120 s session: still signed in (a code without any page)
    expect(await ageArtifact(d.tessera, d.tenantId, 'Session', session, 100)).toBe(1);
    expect(expectRedirect(await browser.authorize(d.spa)).searchParams.get('code')).toBeTruthy();
    // 121 s after the sign-in: the session is over, whatever was done with it meanwhile
    expect(await ageArtifact(d.tessera, d.tenantId, 'Session', session, 21)).toBe(1);
    const step = await browser.authorize(d.spa);
    expect(step.kind, step.kind === 'redirect' ? `signed in silently: ${step.location.href}` : '').toBe('page');
    expectPage(step, 'login');
  });

  // README: "`INTERACTION_TTL` (default `600`) for the time one login/consent may take"
  it('keeps an interaction INTERACTION_TTL seconds: stored expiry and cookie expiry', async () => {
    const browser = new Browser(d);
    const login = expectPage(await browser.authorize(d.spa), 'login');
    const uid = uidOf(login.html);
    const stored = await readArtifact(d.tessera, d.tenantId, 'Interaction', uid);
    expect(stored).toBeDefined();
    expect((stored!.payload.exp as number) - (stored!.payload.iat as number)).toBe(INTERACTION_TTL);
    const line = lastSetCookie(browser.setCookies, '_interaction');
    expect(cookieValue(line)).toBe(uid);
    expect(Math.abs(cookieExpiry(line) - (stored!.payload.exp as number) * 1000)).toBeLessThanOrEqual(1000);
  });

  it('lets a login page be used within INTERACTION_TTL, and shows a clear "expired" page after it', async () => {
    // within: 80 s on the login page of a 90 s interaction still signs in
    const patient = new Browser(d);
    const page = expectPage(await patient.authorize(d.spa), 'login');
    expect(await ageArtifact(d.tessera, d.tenantId, 'Interaction', uidOf(page.html), 80)).toBe(1);
    expect(
      expectRedirect(await patient.submit(page, 'login', { username: 'alice', password: PASSWORDS.alice }, d.spa.redirectUri)).searchParams.get('code'),
    ).toBeTruthy();

    // beyond: 91 s
    const slow = new Browser(d);
    const login = expectPage(await slow.authorize(d.spa), 'login');
    expect(await ageArtifact(d.tessera, d.tenantId, 'Interaction', uidOf(login.html), 91)).toBe(1);
    const posted = await slow.submit(login, 'login', { username: 'alice', password: PASSWORDS.alice }, d.spa.redirectUri);
    if (posted.kind !== 'page') throw new Error(`an expired interaction went on to ${posted.location.href}`);
    expect(posted.status).toBe(400);
    expect(posted.headers.get('content-type')).toContain('text/html');
    expect(posted.html).toContain('This sign-in request has expired or was already completed.');
    expect(posted.html).toContain('Department of Health');
    expect(posted.html).not.toContain('name="password"');
    // no session came of it
    expect(lastSetCookie(slow.setCookies, '_session')).toBeUndefined();
    // reloading the page says the same
    const reload = await slow.follow(
      await fetch(d.localize(login.url), { redirect: 'manual', headers: { cookie: slow.jar.header() } }),
      login.url,
      d.spa.redirectUri,
    );
    if (reload.kind !== 'page') throw new Error('expected a page');
    expect(reload.status).toBe(400);
    expect(reload.html).toContain('has expired');
  });
});

// README: "`SESSION_TTL` / `INTERACTION_TTL` | `28800` / `600`"
describe('lifetime defaults', () => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept('pglite');
  });
  afterAll(() => d?.stop());

  it('keeps a session 28800 s and an interaction 600 s by default', async () => {
    const browser = new Browser(d);
    const login = expectPage(await browser.authorize(d.spa), 'login');
    const interaction = await readArtifact(d.tessera, d.tenantId, 'Interaction', uidOf(login.html));
    expect((interaction!.payload.exp as number) - (interaction!.payload.iat as number)).toBe(600);
    expectRedirect(await browser.submit(login, 'login', { username: 'alice', password: PASSWORDS.alice }, d.spa.redirectUri));
    const session = await readArtifact(d.tessera, d.tenantId, 'Session', cookieValue(lastSetCookie(browser.setCookies, '_session')));
    const remaining = (session!.payload.exp as number) - Math.floor(Date.now() / 1000);
    expect(remaining).toBeGreaterThan(28800 - 5);
    expect(remaining).toBeLessThanOrEqual(28800);
  });
});
