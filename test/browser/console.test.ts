/**
 * The admin console in a real browser (issue 18): Debian's chromium driven by playwright-core.
 * A department's tenant admin signs in through the tenant's login, creates a user (labelled
 * fields, a checkbox per role), sees a refused form keep what was typed with the error at the
 * field, disables the user, reads the audit log; a staff member without an admin role gets the
 * 403 page; a keyboard alone reaches every navigation link. axe-core on every page (no serious
 * or critical violation) and screenshots of each at 1440 and 360 px to test-output/console/ for
 * a person to look at (no page wider than the screen at 360 px).
 * Runs once, on the last backend (PostgreSQL + Redis when configured).
 */
import { mkdir, rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { startDepartment, type Department } from '../signin/fixture.ts';
import { launchChromium } from './chromium.ts';
import { axeViolations, clickButton, heading, type Violation } from './mfa-helpers.ts';

const SHOTS = new URL('../../test-output/console/', import.meta.url);
const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 360, height: 800 };

describe('the admin console in chromium', () => {
  let browser: Browser;
  let d: Department;
  let home: string;
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
  async function signIn(page: Page, username: string, password: string) {
    await page.goto(`${home}/`);
    await heading(page, 'Sign in');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await clickButton(page, 'Sign in');
  }

  beforeAll(async () => {
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    d = await startDepartment(BACKENDS.at(-1)!);
    home = `${d.server.url}/t/dept/console`;
    await d.server.tessera.services.forTenant(d.tenantId).users.create({ username: 'head', password: 'head-of-department-pw', roles: ['tenant-admin'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await d?.server.stop();
  });

  it('a tenant admin creates a user, sees a refusal at its field, disables the user and reads the audit log', async () => {
    const context = await browser.newContext({ viewport: WIDE });
    const page = await context.newPage();
    await signIn(page, 'head', 'head-of-department-pw');
    await heading(page, 'Users');
    await visit(page, '01-users');

    // keyboard only: Tab reaches the navigation links in order
    const focused: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate<string>('document.activeElement.textContent.trim()'));
    }
    expect(focused.slice(0, 2)).toEqual(['Users', 'Audit log']);

    // refused: too short a password; the error is next to the field, the rest is kept
    await page.getByLabel('Username', { exact: true }).fill('olga');
    await page.getByLabel('Email').fill('olga@dept.example');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('checkbox', { name: 'analyst', exact: true }).check();
    await clickButton(page, 'Create user');
    await heading(page, 'Users');
    await expect(page.locator('#password-error').textContent()).resolves.toBe('The password must have at least 8 characters.');
    await expect(page.getByLabel('Username', { exact: true }).inputValue()).resolves.toBe('olga');
    await expect(page.getByRole('checkbox', { name: 'analyst', exact: true }).isChecked()).resolves.toBe(true);
    await visit(page, '02-users-error');

    await page.getByLabel('Password', { exact: true }).fill('olga-long-password-1');
    await clickButton(page, 'Create user');
    await heading(page, 'olga');
    await expect(page.getByRole('status').textContent()).resolves.toBe('The user was created.');
    await visit(page, '03-user');

    await clickButton(page, 'Disable user');
    await heading(page, 'olga');
    await expect(page.getByRole('status').textContent()).resolves.toContain('The user was disabled');
    const olga = (await d.server.tessera.services.forTenant(d.tenantId).users.list({ limit: 200 })).items.find((u) => u.username === 'olga')!;
    expect(olga).toMatchObject({ disabled: true, roles: ['analyst'], email: 'olga@dept.example' });

    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading(page, 'Audit log');
    const types = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(types.slice(0, 2)).toEqual(['user.updated', 'user.created']);
    await visit(page, '04-audit');

    await clickButton(page, 'Sign out');
    await heading(page, 'Signed out');
    await visit(page, '05-signed-out');
    await context.close();
  });

  it('shows a staff member without an admin role the 403 page', async () => {
    const context = await browser.newContext({ viewport: WIDE });
    const page = await context.newPage();
    await signIn(page, 'alice', 'alice-correct-horse');
    await heading(page, 'No access to the console');
    await visit(page, '06-no-access');
    await context.close();
  });

  it('has no serious or critical accessibility violation, and no page wider than a 360 px screen', () => {
    expect([...audits.keys()]).toEqual(['01-users', '02-users-error', '03-user', '04-audit', '05-signed-out', '06-no-access']);
    for (const [name, violations] of audits) {
      expect(
        violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
        name,
      ).toEqual([]);
    }
    for (const [name, width] of narrowWidths) expect(width, name).toBeLessThanOrEqual(360);
  });
});
