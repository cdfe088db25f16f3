/**
 * README promise (Browser sign-in → Consent): a third-party client shows a consent page with
 * Allow and Deny; Deny sends the browser back to the client with `error=access_denied` and no code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { Browser, expectPage, expectRedirect, formAction, PASSWORDS, startDept, type Dept } from '../helpers/department.ts';

describe.each(BACKENDS)('consent on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend);
  });
  afterAll(() => d?.stop());

  // README: "**Consent**: first-party clients are granted at once; others show what they ask for
  // (Allow / Deny): the OIDC scopes and, per API, only the scopes the user's roles grant — what
  // Allow really gives."
  it('Deny on the consent page returns to the client with error=access_denied, the state, and no code', async () => {
    const browser = new Browser(d);
    const state = 'state-deny-1';
    const consent = expectPage(await browser.signIn(d.partner, 'alice', PASSWORDS.alice, 'openid outbreaks:read'), 'consent');
    expect(consent.html).toContain('Partner Analytics');
    expect(consent.html).toMatch(/<button[^>]*>Allow<\/button>/);
    expect(consent.html).toMatch(/<button[^>]*>Deny<\/button>/);
    // the Deny button is the form posting to …/abort
    expect(formAction(consent.html, 'abort')).toMatch(/\/t\/dept\/interaction\/[\w-]+\/abort$/);

    // a fresh authorization (same browser, already signed in) carrying our state
    const again = expectPage(await browser.authorize(d.partner, 'openid outbreaks:read', state), 'consent');
    const denied = expectRedirect(await browser.submit(again, 'abort', {}, d.partner.redirectUri));
    expect(denied.origin + denied.pathname).toBe(d.partner.redirectUri);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe(state);
    expect(denied.searchParams.has('code')).toBe(false);
    expect(denied.searchParams.get('iss')).toBe(d.issuer);

    // Deny granted nothing: the next authorization asks again (and Allow then gives a code)
    const askedAgain = expectPage(await browser.authorize(d.partner, 'openid outbreaks:read'), 'consent');
    const allowed = expectRedirect(await browser.submit(askedAgain, 'confirm', {}, d.partner.redirectUri));
    expect(allowed.searchParams.get('error')).toBeNull();
    expect(allowed.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
  });

  // README: "first-party clients are granted at once"
  it('a first-party client gets its code without a consent page', async () => {
    const step = await new Browser(d).signIn(d.spa, 'alice', PASSWORDS.alice);
    expect(expectRedirect(step).searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
  });
});
