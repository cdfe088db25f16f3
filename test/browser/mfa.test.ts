/**
 * Second factors in a real browser (issue 16): Debian's chromium driven by playwright-core through
 * the tenant's policy (enrolment of an authenticator app, recovery codes), sign-ins with a TOTP
 * code, a recovery code and passkeys (Chromium's virtual authenticator over the DevTools
 * protocol), a temporary password replaced at sign-in, the `amr` of the tokens of a code flow, the
 * account page; axe-core on every new page, and screenshots of each to test-output/mfa/ (also at
 * 360 px for the account and code pages) for a person to look at.
 * Every scenario has its own browser context (no session leaks from one to the next) and its own
 * users; TOTP codes never wait more than the step boundary they need (mfa-helpers.ts).
 * Runs once, on the last backend (PostgreSQL + Redis when configured): the flows are the same.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { generateTotpSecret } from '../../src/security/totp.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { BACKENDS } from '../helpers/tessera.ts';
import { API, startDepartment, type Department } from '../signin/fixture.ts';
import { pkcePair } from './http-flow.ts';
import { addVirtualAuthenticator, Authenticator, axeViolations, clickButton, heading, navigateBy, type Violation } from './mfa-helpers.ts';

const SHOTS = new URL('../../test-output/mfa/', import.meta.url);
const WIDE = { width: 900, height: 720 };
const NARROW = { width: 360, height: 720 };
const CALLBACK = 'http://127.0.0.1:9/cb';

/** the pages issue 16 added, each of which must have been audited and photographed by the flows */
const NEW_PAGES = [
  '01-login',
  '02-enrol',
  '03-recovery-codes',
  '04-account',
  '05-code',
  '06-code-error',
  '07-new-password',
  '08-new-password-error',
  '09-account-passkey-added',
  '10-account-totp-enrol',
  '11-code-with-passkey',
] as const;
type PageName = (typeof NEW_PAGES)[number];
const ALSO_NARROW: readonly PageName[] = ['04-account', '06-code-error', '11-code-with-passkey'];

describe('second factors in chromium', () => {
  let browser: Browser;
  let d: Department;
  let issuer: string;
  let discovery: Record<string, string>;
  const audits = new Map<PageName, Violation[]>();
  /** document width at 360 px, per page shot narrow */
  const narrowWidths = new Map<PageName, number>();
  let n = 0;

  const tenant = () => d.server.tessera.services.forTenant(d.tenantId);
  /** a new staff member of `dept` */
  async function staff(roles: string[], extra: { temporaryPassword?: boolean } = {}) {
    const username = `staff${++n}`;
    const password = `${username}-long-password`;
    const user = await tenant().users.create({ username, password, roles, ...extra });
    return { id: user.id, username, password };
  }
  /** a staff member whose authenticator app the test holds (enrolled through the service) */
  async function enrolled(roles: string[]) {
    const who = await staff(roles);
    const app = new Authenticator(generateTotpSecret());
    const enrolment = await tenant().mfa.enrolTotp({ id: who.id, recoveryCodesLeft: 0 }, app.secret, await app.next());
    if (!enrolment.ok) throw new Error(`enrolment refused: ${enrolment.reason}`);
    const { recoveryCodes } = enrolment;
    return { ...who, app, recoveryCodes };
  }
  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: WIDE });
    return { context, page: await context.newPage() };
  }
  /** screenshot (and at 360 px for some) and axe run of one of the new pages */
  async function visit(page: Page, name: PageName) {
    await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
    if (ALSO_NARROW.includes(name)) {
      await page.setViewportSize(NARROW);
      await page.screenshot({ path: new URL(`${name}-360.png`, SHOTS).pathname, fullPage: true });
      narrowWidths.set(name, await page.evaluate<number>('document.documentElement.scrollWidth'));
      await page.setViewportSize(WIDE);
    }
    audits.set(name, await axeViolations(page));
  }
  /** the account page, through the tenant's login: stops on the login page */
  async function openAccount(page: Page) {
    const res = await page.goto(`${issuer}/account`);
    await heading(page, 'Sign in');
    expect(page.url()).toMatch(/\/t\/dept\/interaction\/[\w-]+$/);
    return res;
  }
  async function typePassword(page: Page, username: string, password: string) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    return clickButton(page, 'Sign in');
  }
  async function expectAccountOf(page: Page, username: string) {
    await heading(page, 'Your account');
    // the account page answers its forms' POSTs in place (…/account/totp), and the recovery-codes
    // page's GET form without fields leaves an empty query
    expect(new URL(page.url()).pathname).toMatch(/^\/t\/dept\/account(\/[\w/-]+)?$/);
    await expect(page.locator('main > .lead').textContent()).resolves.toBe(`Signed in as ${username}.`);
  }
  async function signOut(page: Page) {
    await navigateBy(page, () => page.getByRole('link', { name: 'Sign out' }).click());
    await heading(page, 'Sign out');
    await navigateBy(page, () => page.click('button[name="logout"]'));
    await heading(page, 'Signed out');
  }
  async function enterCode(page: Page, code: string) {
    await page.getByLabel('Authentication code').fill(code);
    return clickButton(page, 'Verify');
  }
  /**
   * a code flow of the first-party app (PKCE, state, nonce) through the pages `signIn` goes
   * through, up to the redirect to the app (answered here: the address is no server); returns the
   * decoded tokens of the code
   */
  async function codeFlow(page: Page, signIn: () => Promise<void>) {
    const clientId = await appClient();
    const { verifier, challenge } = pkcePair();
    const url = new URL(discovery.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CALLBACK,
      scope: 'openid outbreaks:read',
      state: 'mfa-state',
      nonce: 'mfa-nonce',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    await page.goto(url.href);
    await heading(page, 'Sign in');
    // the outcome is the first of: the redirect to the app (taken from the route, not from the
    // page's navigation, which Chromium may report as failed for port 9 before the route answers
    // it), a navigation the page's CSP blocked (only an error in the console), or nothing in 10 s
    let settle!: { resolve: (href: string) => void; reject: (err: Error) => void };
    const outcome = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    outcome.catch(() => {});
    const timer = setTimeout(() => settle.reject(new Error(`no redirect to the app within 10 s, at ${page.url()}`)), 10_000);
    const onConsole = (m: ConsoleMessage) => {
      if (m.type() === 'error' && m.text().includes('Content Security Policy')) settle.reject(new Error(`blocked at ${page.url()}: ${m.text()}`));
    };
    page.on('console', onConsole);
    await page.context().route(`${CALLBACK}**`, (route) => {
      settle.resolve(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
    });
    let href: string;
    try {
      await signIn();
      href = await outcome;
    } finally {
      clearTimeout(timer);
      page.off('console', onConsole);
      await page.context().unroute(`${CALLBACK}**`);
    }
    const back = new URL(href);
    expect(back.searchParams.get('state')).toBe('mfa-state');
    const code = back.searchParams.get('code');
    expect(code, `redirected without a code: ${back.search}`).toBeTruthy();
    const res = await tokenRequest(discovery.token_endpoint!, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: code!,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { id: decodeJwt(res.body.id_token as string), access: decodeJwt(res.body.access_token as string) };
  }
  let app: Promise<string> | undefined;
  /** a first-party public client with the code flow, redirecting to CALLBACK */
  const appClient = () =>
    (app ??= tenant()
      .clients.create({
        name: 'app',
        grantTypes: ['authorization_code'],
        redirectUris: [CALLBACK],
        tokenEndpointAuthMethod: 'none',
        defaultResource: API,
        firstParty: true,
      })
      .then((c) => c.clientId as string));

  beforeAll(async () => {
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    d = await startDepartment(BACKENDS.at(-1)!);
    issuer = `${d.server.url}/t/dept`;
    discovery = await discover(d.server.url, 'dept');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await d?.server.stop();
  });

  // the analyst of the first scenario, reused by the next two
  let analyst: { username: string; password: string; app: Authenticator; recoveryCodes: string[] } | undefined;

  it('the tenant policy makes an analyst set up an authenticator app at sign-in; a viewer signs in with the password alone', async () => {
    const services = d.server.tessera.services;
    try {
      await services.tenants.update('dept', { mfa: { require: 'roles', roles: ['analyst'] } });
      const who = await staff(['analyst']);
      const { page } = await newPage();
      const login = await openAccount(page);
      const loginCsp = login?.headers()['content-security-policy'] ?? '';
      expect(loginCsp).toContain("script-src 'self'");
      expect(loginCsp).not.toContain('unsafe-inline');
      await expect(page.getByRole('button', { name: 'Sign in with a passkey' }).count()).resolves.toBe(1);
      await visit(page, '01-login');

      const enrolPage = await typePassword(page, who.username, who.password);
      await heading(page, 'Set up two-step verification');
      const enrolCsp = enrolPage?.headers()['content-security-policy'] ?? '';
      expect(enrolCsp).toContain("default-src 'none'");
      expect(enrolCsp).not.toContain('script-src');
      await expect(page.locator('script').count()).resolves.toBe(0);
      await expect(page.locator('figure.qr svg').count()).resolves.toBe(1);
      const shown = (await page.locator('#totp-secret').textContent()) ?? '';
      expect(shown).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
      const app = new Authenticator(shown.replace(/\s/g, ''));
      expect(app.secret).toHaveLength(32);
      await visit(page, '02-enrol');

      await page.getByLabel('Authentication code').fill(await app.next());
      await clickButton(page, 'Turn on two-step verification');
      await heading(page, 'Your recovery codes');
      const recoveryCodes = await page.locator('#recovery-codes li code').allTextContents();
      expect(recoveryCodes).toHaveLength(10);
      for (const c of recoveryCodes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
      expect(new Set(recoveryCodes).size).toBe(10);
      await visit(page, '03-recovery-codes');

      await clickButton(page, 'I have saved my recovery codes');
      await expectAccountOf(page, who.username);
      await expect(page.locator('#totp-title + p .status').textContent()).resolves.toBe('On.');
      await expect(page.locator('#recovery-title + p .status').textContent()).resolves.toBe('10 unused.');
      await visit(page, '04-account');
      analyst = { ...who, app, recoveryCodes };

      // a viewer is not covered: password, then straight to the account page
      const viewer = await staff(['viewer']);
      const other = await newPage();
      await openAccount(other.page);
      await typePassword(other.page, viewer.username, viewer.password);
      await expectAccountOf(other.page, viewer.username);
      await expect(other.page.locator('#totp-title + p .status').textContent()).resolves.toBe('Off.');
    } finally {
      await services.tenants.update('dept', { mfa: { require: 'none' } });
    }
  });

  it('an enrolled user signs in with a TOTP code: a wrong code is an error on the page', async () => {
    expect(analyst, 'the enrolment scenario must run first').toBeDefined();
    const a = analyst!;
    const { page } = await newPage();
    await openAccount(page);
    const codePage = await typePassword(page, a.username, a.password);
    await heading(page, 'Two-step verification');
    // no passkey: no script on the page
    expect(codePage?.headers()['content-security-policy']).not.toContain('script-src');
    await expect(page.getByRole('button', { name: 'Use a passkey instead' }).count()).resolves.toBe(0);
    await expect(page.locator('main .lead').textContent()).resolves.toContain(a.username);
    await visit(page, '05-code');

    const wrong = await enterCode(page, a.app.wrong());
    expect(wrong?.status()).toBe(400);
    await heading(page, 'Two-step verification');
    await expect(page.getByRole('alert').textContent()).resolves.toBe('That code is not valid. Check your authenticator app and try again.');
    await expect(page.getByLabel('Authentication code').getAttribute('aria-invalid')).resolves.toBe('true');
    await visit(page, '06-code-error');

    await enterCode(page, await a.app.next());
    await expectAccountOf(page, a.username);
    await expect(page.locator('#history-title ~ .table-wrap tbody').textContent()).resolves.toContain('with two-step verification');
  });

  it('a recovery code signs in once; the same code is refused afterwards', async () => {
    expect(analyst, 'the enrolment scenario must run first').toBeDefined();
    const a = analyst!;
    const code = a.recoveryCodes[3]!;
    const first = await newPage();
    await openAccount(first.page);
    await typePassword(first.page, a.username, a.password);
    await heading(first.page, 'Two-step verification');
    await enterCode(first.page, code);
    await expectAccountOf(first.page, a.username);
    await expect(first.page.locator('#recovery-title + p .status').textContent()).resolves.toBe('9 unused.');

    const again = await newPage();
    await openAccount(again.page);
    await typePassword(again.page, a.username, a.password);
    await heading(again.page, 'Two-step verification');
    const refused = await enterCode(again.page, code);
    expect(refused?.status()).toBe(400);
    await heading(again.page, 'Two-step verification');
    expect(again.page.url()).toMatch(/\/interaction\/[\w-]+\/code$/);
    await expect(again.page.getByRole('alert').textContent()).resolves.toBe('That code is not valid. Check your authenticator app and try again.');
  });

  it('passkeys: added on the account page, then a passwordless sign-in, and "Use a passkey instead" after the password', async () => {
    const who = await staff(['viewer']);
    const { context, page } = await newPage();
    // the virtual authenticator lives with this tab: the whole scenario stays on this page
    await addVirtualAuthenticator(context, page);
    await openAccount(page);
    await typePassword(page, who.username, who.password);
    await expectAccountOf(page, who.username);
    await expect(page.getByText('No passkeys yet.').count()).resolves.toBe(1);

    await page.getByLabel('Passkey name').fill('Work laptop');
    // adding a factor asks for the current password (a session left open cannot add one)
    await page.locator('#passkey-current').fill(who.password);
    await clickButton(page, 'Add a passkey');
    // the first factor besides the password comes with recovery codes
    await heading(page, 'Your recovery codes');
    await expect(page.locator('#recovery-codes li code').count()).resolves.toBe(10);
    await clickButton(page, 'I have saved my recovery codes');
    await expectAccountOf(page, who.username);
    const listed = page.locator('.passkey');
    await expect(listed.count()).resolves.toBe(1);
    await expect(listed.locator('strong').textContent()).resolves.toBe('Work laptop');
    await expect(page.getByRole('button', { name: 'Remove Work laptop' }).count()).resolves.toBe(1);
    await visit(page, '09-account-passkey-added');

    // and an authenticator app, set up from the account page
    await navigateBy(page, () => page.getByRole('link', { name: 'Set up an authenticator app' }).click());
    expect(page.url()).toBe(`${issuer}/account/totp`);
    await heading(page, 'Set up an authenticator app');
    await visit(page, '10-account-totp-enrol');
    const app = new Authenticator(((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, ''));
    await page.getByLabel('Authentication code').fill(await app.next());
    await page.locator('#totp-current').fill(who.password);
    await clickButton(page, 'Turn on two-step verification');
    await expectAccountOf(page, who.username);
    await expect(page.getByRole('status').filter({ hasText: 'Your authenticator app is set up.' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Remove authenticator app' }).count()).resolves.toBe(1);

    // passwordless: the passkey alone on the login page
    await signOut(page);
    await openAccount(page);
    await clickButton(page, 'Sign in with a passkey');
    await expectAccountOf(page, who.username);

    // with the password, the code page offers the passkey instead of a code
    await signOut(page);
    await openAccount(page);
    const codePage = await typePassword(page, who.username, who.password);
    await heading(page, 'Two-step verification');
    expect(codePage?.headers()['content-security-policy']).toContain("script-src 'self'");
    await visit(page, '11-code-with-passkey');
    await clickButton(page, 'Use a passkey instead');
    await expectAccountOf(page, who.username);
    await expect(page.locator('.passkey p').textContent()).resolves.not.toContain('last used never');
  });

  it('a temporary password is replaced at sign-in; the password grant then takes the new one only', async () => {
    const who = await staff(['viewer'], { temporaryPassword: true });
    const chosen = 'my-own-chosen-passphrase';
    const { page } = await newPage();
    await openAccount(page);
    await typePassword(page, who.username, who.password);
    await heading(page, 'Choose a new password');
    await visit(page, '07-new-password');

    await page.getByLabel('New password', { exact: true }).fill(chosen);
    await page.getByLabel('Confirm new password').fill(`${chosen}-typo`);
    const mismatch = await clickButton(page, 'Set password and continue');
    expect(mismatch?.status()).toBe(400);
    await heading(page, 'Choose a new password');
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The two passwords do not match.');
    await visit(page, '08-new-password-error');

    await page.getByLabel('New password', { exact: true }).fill(chosen);
    await page.getByLabel('Confirm new password').fill(chosen);
    await clickButton(page, 'Set password and continue');
    await expectAccountOf(page, who.username);

    const grant = (password: string) => tokenRequest(d.token, { grant_type: 'password', username: who.username, password }, d.webapp);
    const fresh = await grant(chosen);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(decodeJwt(fresh.body.access_token as string).amr).toEqual(['pwd']);
    const old = await grant(who.password);
    expect(old.status).toBe(400);
    expect(old.body.error).toBe('invalid_grant');
  });

  it('tokens of a code flow after a TOTP code say amr pwd otp mfa, and auth_time', async () => {
    const u = await enrolled(['viewer']);
    const { page } = await newPage();
    const before = Math.floor(Date.now() / 1000);
    const tokens = await codeFlow(page, async () => {
      await typePassword(page, u.username, u.password);
      await heading(page, 'Two-step verification');
      await page.getByLabel('Authentication code').fill(await u.app.next());
      // no navigation wait: the last redirect goes to the app (answered by the route)
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
    });
    const after = Math.ceil(Date.now() / 1000);
    for (const [token, claims] of [
      ['access token', tokens.access],
      ['ID token', tokens.id],
    ] as const) {
      expect(claims.sub, token).toBe(u.id);
      expect(claims.amr, `${token} amr`).toEqual(['pwd', 'otp', 'mfa']);
      expect(claims.auth_time, `${token} auth_time`).toBeGreaterThanOrEqual(before);
      expect(claims.auth_time, `${token} auth_time`).toBeLessThanOrEqual(after);
    }
    expect(tokens.access.aud).toBe(API);
    expect(tokens.id.nonce).toBe('mfa-nonce');
  });

  it('tokens of a code flow after a passwordless passkey sign-in say mfa and hwk or swk, not pwd', async () => {
    const p = await staff(['viewer']);
    const { context, page } = await newPage();
    await addVirtualAuthenticator(context, page);
    await openAccount(page);
    await typePassword(page, p.username, p.password);
    await expectAccountOf(page, p.username);
    await page.locator('#passkey-current').fill(p.password);
    await clickButton(page, 'Add a passkey');
    await heading(page, 'Your recovery codes');
    await clickButton(page, 'I have saved my recovery codes');
    await expect(page.locator('.passkey').count()).resolves.toBe(1);
    // signed out first: the passkey is then the whole sign-in of the app's authorization
    await signOut(page);
    const before = Math.floor(Date.now() / 1000);
    const tokens = await codeFlow(page, () => page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click());
    for (const [token, claims] of [
      ['access token', tokens.access],
      ['ID token', tokens.id],
    ] as const) {
      expect(claims.sub, token).toBe(p.id);
      const amr = (claims.amr ?? []) as string[];
      expect(amr, `${token} amr`).toContain('mfa');
      expect(amr, `${token} amr`).not.toContain('pwd');
      expect(
        amr.filter((m) => m === 'hwk' || m === 'swk'),
        `${token} amr`,
      ).toHaveLength(1);
      expect(claims.auth_time, `${token} auth_time`).toBeGreaterThanOrEqual(before);
    }
  });

  it('has no serious or critical accessibility violation (axe-core) on any new page', () => {
    const missing = NEW_PAGES.filter((name) => !audits.has(name));
    expect(missing, 'pages no scenario reached').toEqual([]);
    const serious = [...audits].flatMap(([name, violations]) =>
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ page: name, ...v })),
    );
    expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
  });

  it('took a screenshot of every new page at 900 px, and of the account and code pages at 360 px without horizontal overflow', async () => {
    const files = [...NEW_PAGES.map((name) => `${name}.png`), ...ALSO_NARROW.map((name) => `${name}-360.png`)];
    for (const file of files) {
      const png = await readFile(new URL(file, SHOTS));
      // the IHDR chunk: width at byte 16, big-endian
      const width = png.readUInt32BE(16);
      expect(width, file).toBe(file.endsWith('-360.png') ? NARROW.width : WIDE.width);
    }
    for (const name of ALSO_NARROW) expect(narrowWidths.get(name), `${name} at 360 px`).toBeLessThanOrEqual(NARROW.width);
  });
});
