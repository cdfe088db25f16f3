/**
 * The admin console in a real browser (issue 18): Debian's chromium driven by playwright-core.
 * A platform admin creates a tenant with its first admin; that tenant admin signs in to the new
 * tenant's console, adds an API, a role (the matrix), a user (labelled fields, a checkbox per
 * role; a refused form keeps what was typed with the error at its field) and a machine client,
 * copies the secret with the copy button, gets a token with it over HTTP, disables the user and
 * reads the audit log, and at another tenant's console gets that tenant's sign-in page, never its
 * pages; a staff member without an admin role gets the 403 page; a keyboard alone
 * reaches the navigation. axe-core on every page (no serious or critical violation) and
 * screenshots of each at 1440 and 360 px to test-output/console/ (no page wider than 360 px).
 * Runs once, on the last backend (PostgreSQL + Redis when configured).
 */
import { mkdir, rm } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { startDepartment, type Department } from '../signin/fixture.ts';
import { launchChromium } from './chromium.ts';
import { axeViolations, clickButton, heading, type Violation } from './mfa-helpers.ts';

const SHOTS = new URL('../../test-output/console/', import.meta.url);
const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 360, height: 800 };
const LAB_API = 'https://lab.example.org/api';

describe('the admin console in chromium', () => {
  let browser: Browser;
  let d: Department;
  let base: string;
  const audits = new Map<string, Violation[]>();
  const narrowWidths = new Map<string, number>();

  /** axe, and a screenshot at 1440 and at 360 px */
  async function visit(page: Page, name: string) {
    audits.set(name, await axeViolations(page));
    await page.screenshot({ path: new URL(`${name}-1440.png`, SHOTS).pathname, fullPage: true });
    await page.setViewportSize(NARROW);
    await page.screenshot({ path: new URL(`${name}-360.png`, SHOTS).pathname, fullPage: true });
    narrowWidths.set(name, await page.evaluate<number>('document.documentElement.scrollWidth'));
    await page.setViewportSize(WIDE);
  }
  async function signIn(page: Page, tenant: string, username: string, password: string) {
    await page.goto(`${base}/t/${tenant}/console/`);
    await heading(page, 'Sign in');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await clickButton(page, 'Sign in');
  }
  const go = async (page: Page, link: string, title = link) => {
    await Promise.all([page.waitForNavigation(), page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link, exact: true }).click()]);
    await heading(page, title);
  };

  beforeAll(async () => {
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    d = await startDepartment(BACKENDS.at(-1)!);
    base = d.server.url;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await d?.server.stop();
  });

  it('a platform admin creates a tenant; its admin sets it up, gets a token with a copied secret, disables a user and reads the audit log', async () => {
    const context = await browser.newContext({ viewport: WIDE, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();

    // the platform admin: Tenants → create with the first admin
    await signIn(page, 'system', 'admin', ADMIN_PASSWORD);
    await heading(page, 'Users');
    await go(page, 'Tenants');
    await page.getByLabel('Identifier').fill('lab-c');
    await page.getByLabel('Name', { exact: true }).fill('Lab C');
    await page.getByLabel('First admin’s username').fill('ines');
    await page.getByLabel('First admin’s password').fill('ines-first-password');
    await clickButton(page, 'Create tenant');
    await expect(page.getByRole('status').textContent()).resolves.toBe('The tenant was created.');
    await visit(page, '08-tenants');
    await clickButton(page, 'Sign out');
    await context.clearCookies();

    // the tenant's admin, in its own console
    await signIn(page, 'lab-c', 'ines', 'ines-first-password');
    await heading(page, 'Users');

    // keyboard only: Tab reaches the navigation links in order
    const focused: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate<string>('document.activeElement.textContent.trim()'));
    }
    expect(focused).toEqual(['Users', 'Roles', 'APIs', 'Clients', 'Keys', 'Audit log', 'Settings']);

    await go(page, 'APIs');
    await page.getByLabel('Audience').fill(LAB_API);
    await page.getByLabel('Name', { exact: true }).fill('Lab');
    await page.getByLabel('Scopes').fill('samples:read samples:write');
    await clickButton(page, 'Add API');
    await heading(page, 'Lab');
    await go(page, 'APIs');
    await visit(page, '02-apis');

    await go(page, 'Roles');
    await page.getByLabel('Name', { exact: true }).fill('lab-tech');
    await clickButton(page, 'Create role');
    await heading(page, 'Role lab-tech');
    await page.getByRole('group', { name: /^Lab/ }).getByRole('checkbox', { name: 'samples:read' }).check();
    await clickButton(page, 'Save permissions');
    await expect(page.getByRole('status').textContent()).resolves.toBe('The role was saved.');
    await visit(page, '03-role');
    await go(page, 'Roles');
    await visit(page, '04-roles');

    await go(page, 'Users');
    await page.getByLabel('Username', { exact: true }).fill('olga');
    await page.getByLabel('Email').fill('olga@lab.example');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('checkbox', { name: 'lab-tech', exact: true }).check();
    await clickButton(page, 'Create user');
    await heading(page, 'Users');
    await expect(page.locator('#password-error').textContent()).resolves.toBe('The password must have at least 8 characters.');
    await expect(page.getByLabel('Username', { exact: true }).inputValue()).resolves.toBe('olga');
    await expect(page.getByRole('checkbox', { name: 'lab-tech', exact: true }).isChecked()).resolves.toBe(true);
    await visit(page, '01-users-error');
    await page.getByLabel('Password', { exact: true }).fill('olga-long-password-1');
    await clickButton(page, 'Create user');
    await heading(page, 'olga');
    await expect(page.getByRole('status').textContent()).resolves.toBe('The user was created.');
    await visit(page, '05-user');

    await go(page, 'Clients');
    await page.getByRole('radio', { name: 'Machine client' }).check();
    await page.getByLabel('Name', { exact: true }).fill('sampler');
    await page.getByLabel('Default API').selectOption(LAB_API);
    await page.getByRole('group', { name: 'Roles of a machine client’s tokens' }).getByRole('checkbox', { name: 'lab-tech' }).check();
    await visit(page, '06-clients');
    await clickButton(page, 'Create client');
    await heading(page, 'Client created');
    await visit(page, '07-client-secret');
    const clientId = await page.getByLabel('Client ID').inputValue();
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor({ timeout: 5_000 });
    const secret = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(secret).toBe(await page.getByLabel('Client secret').inputValue());
    const disco = await discover(base, 'lab-c');
    const cc = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials' }, { clientId, clientSecret: secret });
    expect(cc.status).toBe(200);
    expect(decodeJwt(cc.body.access_token as string)).toMatchObject({ aud: LAB_API, scope: 'samples:read', roles: ['lab-tech'], tenant_id: 'lab-c' });

    await go(page, 'Users');
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'olga' }).click()]);
    await clickButton(page, 'Disable user');
    await expect(page.getByRole('status').textContent()).resolves.toContain('The user was disabled');

    // the same browser, at another tenant's console: that tenant does not know ines, so its
    // sign-in page, never its console (her session is scoped to lab-c's path and tenant)
    await page.goto(`${base}/t/dept/console/users`);
    await heading(page, 'Sign in');
    expect(new URL(page.url()).pathname).toMatch(/^\/t\/dept\/interaction\//);
    await page.goto(`${base}/t/lab-c/console/keys`);
    await heading(page, 'Keys');
    await visit(page, '09-keys');
    await go(page, 'Settings');
    await visit(page, '10-settings');
    await go(page, 'Audit log');
    const types = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(types.slice(0, 3)).toEqual(['user.updated', 'client.created', 'user.created']);
    await visit(page, '11-audit');

    await clickButton(page, 'Sign out');
    await heading(page, 'Signed out');
    await visit(page, '12-signed-out');
    await context.close();
  });

  it('shows a staff member without an admin role the 403 page', async () => {
    const context = await browser.newContext({ viewport: WIDE });
    const page = await context.newPage();
    await signIn(page, 'dept', 'alice', 'alice-correct-horse');
    await heading(page, 'No access to the console');
    await visit(page, '13-no-access');
    await context.close();
  });

  it('has no serious or critical accessibility violation, and no page wider than a 360 px screen', () => {
    expect(audits.size).toBe(13);
    for (const [name, violations] of audits) {
      expect(
        violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
        name,
      ).toEqual([]);
    }
    for (const [name, width] of narrowWidths) expect(width, name).toBeLessThanOrEqual(360);
  });
});
