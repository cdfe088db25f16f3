/**
 * README promise (Browser sign-in → Security): the sign-in cookies are HttpOnly, SameSite=Lax,
 * scoped to /t/T/, and Secure exactly when PUBLIC_URL is https. The server is reached over plain
 * HTTP on its loopback port in both cases (as behind a TLS-terminating proxy): what decides is
 * PUBLIC_URL, not the scheme of the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { Browser, expectPage, expectRedirect, PASSWORDS, startDept, type Dept } from '../helpers/department.ts';

/** every cookie the sign-in sets: the interaction, its resume cookie, the session and the CSRF nonce */
async function signInCookies(d: Dept): Promise<string[]> {
  const browser = new Browser(d);
  // first-party: login page → code (interaction, resume, session and CSRF cookies)
  expect(expectRedirect(await browser.signIn(d.spa, 'alice', PASSWORDS.alice)).searchParams.get('code')).toBeTruthy();
  // third-party: the consent page of the same session
  expectPage(await browser.authorize(d.partner), 'consent');
  return browser.setCookies;
}

const attributes = (line: string) =>
  line
    .split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());
const names = (lines: string[]) => new Set(lines.map((l) => l.slice(0, l.indexOf('='))));

describe.each(BACKENDS)('sign-in cookies on %s', (backend) => {
  let https: Dept;
  let http: Dept;
  beforeAll(async () => {
    https = await startDept(backend, { PUBLIC_URL: 'https://id.example.test' });
    http = await startDept(backend, { PUBLIC_URL: 'http://id.example.test' });
  });
  afterAll(async () => {
    await https?.stop();
    await http?.stop();
  });

  // README: "cookies are `HttpOnly`, `SameSite=Lax`, scoped to `/t/T/` (tenants on one host never
  // share a session) and `Secure` when `PUBLIC_URL` is https."
  it('carry Secure (and HttpOnly, SameSite=Lax, path /t/dept/) when PUBLIC_URL is https', async () => {
    expect(https.issuer).toBe('https://id.example.test/t/dept');
    const lines = await signInCookies(https);
    // the session and the interaction cookies (and their signatures) and the CSRF nonce are all there
    for (const name of ['_session', '_session.sig', '_interaction', '_interaction.sig', '_interaction_resume', 'tessera.csrf']) {
      expect(names(lines), name).toContain(name);
    }
    for (const line of lines) {
      const attrs = attributes(line);
      expect(attrs, line).toContain('secure');
      expect(attrs, line).toContain('httponly');
      expect(attrs, line).toContain('samesite=lax');
      expect(
        attrs.find((a) => a.startsWith('path=')),
        line,
      ).toMatch(/^path=\/t\/dept\//);
    }
  });

  // the same sentence, read the other way: `Secure` only when PUBLIC_URL is https (a browser on
  // plain http would drop a Secure cookie and the sign-in could never finish)
  it('do not carry Secure when PUBLIC_URL is http', async () => {
    const lines = await signInCookies(http);
    expect(names(lines)).toContain('_session');
    expect(names(lines)).toContain('tessera.csrf');
    for (const line of lines) {
      const attrs = attributes(line);
      expect(attrs, line).not.toContain('secure');
      expect(attrs, line).toContain('httponly');
      expect(attrs, line).toContain('samesite=lax');
    }
  });
});
