/**
 * Helpers of the browser MFA suite (mfa.test.ts): TOTP codes the server will take without
 * waiting more than needed, Chromium's virtual authenticator, axe-core runs and screenshots.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { stepAt, TOTP_PERIOD_SECONDS, TOTP_WINDOW, totpCode } from '../../src/security/totp.ts';

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
/** a code of the oldest step still accepted is used only if it cannot expire before the server reads it */
const MARGIN_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One authenticator app as the test holds it: the secret and the last step whose code the server
 * accepted (the server takes a step only if it is later than that one, within ±1 of now).
 */
export class Authenticator {
  private lastUsed = Number.NEGATIVE_INFINITY;
  constructor(readonly secret: string) {}

  /**
   * the code of the earliest step the server accepts now and has not seen: the oldest of the window
   * first, so that three sign-ins in a row never wait; beyond the window it waits for the exact step
   * boundary (never a fixed sleep)
   */
  async next(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const current = stepAt(now);
      const step = Math.max(this.lastUsed + 1, current - TOTP_WINDOW);
      const leftInStep = (current + 1) * STEP_MS - now;
      if (step < current && leftInStep < MARGIN_MS) {
        // the oldest step of the window leaves it at the next boundary: wait for that one
        await sleep(leftInStep + 20);
        continue;
      }
      if (step > current + TOTP_WINDOW) {
        await sleep((step - TOTP_WINDOW) * STEP_MS - now + 20);
        continue;
      }
      this.lastUsed = step;
      return totpCode(this.secret, step);
    }
  }

  /** six digits that are no code of any step near now */
  wrong(): string {
    const current = stepAt(Date.now());
    const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(this.secret, current + d)));
    return ['000000', '111111', '222222', '333333', '444444'].find((c) => !near.has(c))!;
  }
}

/** Chromium's virtual authenticator for the page's tab: a platform authenticator with resident keys and user verification */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

/** clicks and returns the response of the navigation the click starts (the last one of its redirects) */
export async function navigateBy(page: Page, click: () => Promise<void>): Promise<Response | null> {
  const [response] = await Promise.all([page.waitForNavigation(), click()]);
  return response;
}

export const clickButton = (page: Page, name: string) => navigateBy(page, () => page.getByRole('button', { name, exact: true }).click());

/** the page (loaded: after goto or navigateBy) is the one titled `text`; else fails at once, with the page's alert if any */
export async function heading(page: Page, text: string): Promise<void> {
  const actual = (await page.locator('h1').first().textContent({ timeout: 5_000 }))?.trim();
  if (actual === text) return;
  const alert = await page.locator('[role="alert"]').allTextContents();
  throw new Error(`expected the page "${text}", got "${actual}" at ${page.url()}${alert.length ? ` (alert: ${alert.join(' ')})` : ''}`);
}

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

let axeSource: Promise<string> | undefined;

/** axe-core's violations on the page; injected through the DevTools protocol (not subject to the page's CSP) */
export async function axeViolations(page: Page): Promise<Violation[]> {
  axeSource ??= readFile(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  if ((await page.evaluate<string>('typeof window.axe')) !== 'object') await page.evaluate(await axeSource);
  const result = await page.evaluate<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>(
    "window.axe.run(document, { resultTypes: ['violations'] })",
  );
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}
