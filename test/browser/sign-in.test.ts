/**
 * Browser sign-in in a real browser (issue 7): Debian's chromium driven by playwright-core signs
 * a staff user in from the example SPA (code + PKCE, public client), calls the simulate API, sees
 * a wrong password refused on the page, consents for a third-party client, and signs out.
 * Screenshots of every page go to test-output/browser/ for a person to look at.
 * Runs once, on the last backend (PostgreSQL + Redis when configured): the flows are the same.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { BACKENDS } from '../helpers/tessera.ts';
import { API, PASSWORDS, startBrowserDepartment, type BrowserDepartment } from './fixture.ts';
import { pkcePair } from './http-flow.ts';
import { startSpaServer, type SpaServer } from './spa-server.ts';

const SHOTS = new URL('../../test-output/browser/', import.meta.url);

describe('browser sign-in with chromium', () => {
  let browser: Browser;
  let spa: SpaServer;
  let d: BrowserDepartment;
  let page: Page;
  const shot = (p: Page, name: string) => p.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    spa = await startSpaServer();
    d = await startBrowserDepartment(BACKENDS.at(-1)!, spa.url);
    spa.configure({
      issuer: d.issuer,
      clientId: d.spa.clientId,
      audience: API,
      scope: 'openid profile email outbreaks:read simulate:run',
      outbreaks: [{ id: 'ob-dept-1', tenantId: 'dept', disease: 'influenza', region: 'North', population: 250_000, infected: 120, r0: 1.4 }],
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 900, height: 720 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await spa?.stop();
    await d?.server.stop();
  });

  it('signs a staff user in from the SPA (wrong password first) and calls the API', async () => {
    await page.goto(spa.url);
    await page.waitForSelector('body[data-ready="true"]');
    await shot(page, '01-spa-signed-out');
    await page.click('#sign-in');
    await page.waitForURL(/\/t\/dept\/interaction\//);
    await expect(page.locator('.tenant').textContent()).resolves.toBe('Department of Health');
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
    await shot(page, '02-login');

    // keyboard only: the username field has focus, then the password, then the button
    await expect(page.evaluate<string | undefined>('document.activeElement?.id')).resolves.toBe('username');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type('not-her-password');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role="alert"]');
    await expect(page.locator('[role="alert"]').textContent()).resolves.toBe('Incorrect username or password.');
    await expect(page.inputValue('#username')).resolves.toBe('alice');
    await expect(page.inputValue('#password')).resolves.toBe('');
    await shot(page, '03-wrong-password');

    await page.fill('#password', PASSWORDS.alice);
    await page.click('button[type="submit"].primary');
    await page.waitForURL((url) => url.href.startsWith(spa.url));
    await page.waitForSelector('#signed-in:not([hidden])');
    await expect(page.locator('#who').textContent()).resolves.toBe('Signed in as alice (alice@dept.example).');
    await expect(page.locator('#scopes').textContent()).resolves.toBe('outbreaks:read simulate:run');
    await expect(page.locator('#roles').textContent()).resolves.toBe('analyst, viewer');
    // the code and state are gone from the address bar
    expect(new URL(page.url()).search).toBe('');

    await page.click('#simulate');
    await page.locator('#result', { hasText: 'requested by' }).waitFor();
    await expect(page.locator('#result').textContent()).resolves.toContain(`requested by ${d.users.alice}`);
    await page.click('#refresh');
    await expect(page.locator('#status').textContent()).resolves.toBe('');
    await shot(page, '04-spa-signed-in-api-called');
  });

  it('asks for consent for a third-party client, and returns the code after Allow', async () => {
    const tab = await page.context().newPage();
    // the partner's callback is not a real server: answer it here
    await tab.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'partner callback' }));
    const url = new URL(d.discovery.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: d.thirdParty.clientId,
      redirect_uri: d.thirdParty.redirectUri,
      scope: 'openid profile outbreaks:read',
      state: 'partner-state',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).toString();
    await tab.goto(url.href);
    // already signed in (the SPA's session): straight to consent
    await tab.waitForURL(/\/interaction\//);
    await expect(tab.locator('h1').textContent()).resolves.toBe('Allow access?');
    const text = await tab.locator('main').textContent();
    expect(text).toContain('Partner Analytics');
    expect(text).toContain('outbreaks:read on Epidemic model');
    expect(text).toContain('See your username');
    await shot(tab, '05-consent');
    await tab.click('button:text-is("Allow")');
    await tab.waitForURL((u) => u.href.startsWith(d.thirdParty.redirectUri));
    const back = new URL(tab.url());
    expect(back.searchParams.get('state')).toBe('partner-state');
    expect(back.searchParams.get('code')).toBeTruthy();
    await tab.close();
  });

  it('signs out: the session ends and the next sign-in asks for the password again', async () => {
    await page.click('#sign-out');
    await page.waitForURL(/\/session\/end/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign out');
    await shot(page, '06-logout-confirm');
    await page.click('button[name="logout"]');
    await page.waitForURL(/\/session\/end\/success/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Signed out');
    await shot(page, '07-signed-out');

    await page.goto(spa.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#sign-in');
    await page.waitForURL(/\/interaction\//);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
  });

  it('shows an unregistered redirect_uri as an error page', async () => {
    const url = new URL(d.discovery.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: d.spa.clientId,
      redirect_uri: `${spa.url}evil`,
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).toString();
    const res = await page.goto(url.href);
    expect(res?.status()).toBe(400);
    expect(page.url()).toBe(url.href);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign-in cannot continue');
    await shot(page, '08-error-redirect-uri');
  });
});
