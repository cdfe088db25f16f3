/**
 * README promises (Browser sign-in → Security): the token endpoint answers a browser app (CORS)
 * only from a public client's registered redirect origins; every page carries the documented
 * Content-Security-Policy with `form-action` naming 'self' and the client's redirect origins and
 * `frame-ancestors 'none'`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, Browser, expectPage, expectRedirect, PASSWORDS, startDept, type Credentials, type Dept } from '../helpers/department.ts';

const SPA_ORIGIN = 'https://spa.example.org';
const PARTNER_ORIGIN = 'https://partner.example.net';
const EVIL = 'https://evil.example';

/** `Content-Security-Policy` as a map directive → value */
function csp(headers: Headers): Map<string, string> {
  const header = headers.get('content-security-policy');
  if (!header) throw new Error('no Content-Security-Policy');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name!, values.join(' ')] as const;
      }),
  );
}

describe.each(BACKENDS)('CORS and CSP on %s', (backend) => {
  let d: Dept;
  /** a confidential client that also has a redirect URI at the SPA's origin */
  let confidential: Credentials;
  /** a first-party public client without an API: its access tokens are for userinfo */
  const profile = { clientId: '', redirectUri: 'https://profile.example.org/cb' };
  beforeAll(async () => {
    d = await startDept(backend);
    const s = d.tessera.services.forTenant(d.tenantId);
    confidential = (await s.clients.create({
      name: 'server-side app',
      grantTypes: ['authorization_code', 'password'],
      redirectUris: [`${SPA_ORIGIN}/server-cb`],
      defaultResource: API,
      firstParty: true,
    })) as Credentials;
    profile.clientId = (
      await s.clients.create({
        name: 'Profile page',
        grantTypes: ['authorization_code'],
        redirectUris: [profile.redirectUri],
        tokenEndpointAuthMethod: 'none',
        firstParty: true,
      })
    ).clientId;
  });
  afterAll(() => d?.stop());

  /** a code for `client`, and the browser that got it (its PKCE verifier) */
  const codeFor = async (client: { clientId: string; redirectUri: string }, scope?: string) => {
    const browser = new Browser(d);
    const code = expectRedirect(await browser.signIn(client, 'alice', PASSWORDS.alice, scope)).searchParams.get('code')!;
    return { code, verifier: browser.pkce.verifier };
  };
  const redeem = (client: { clientId: string; redirectUri: string }, c: { code: string; verifier: string }, origin: string) =>
    tokenRequest(
      d.endpoint('token_endpoint'),
      { grant_type: 'authorization_code', client_id: client.clientId, code: c.code, redirect_uri: client.redirectUri, code_verifier: c.verifier },
      undefined,
      { origin },
    );

  // README: "A browser app on another origin may call the token endpoint (CORS) from its
  // registered redirect origins when it is a public client."
  it('answers the token endpoint with Access-Control-Allow-Origin for a public client from its redirect origin', async () => {
    const res = await redeem(d.spa, await codeFor(d.spa), SPA_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    // and its refresh, from the same origin
    const refreshed = await tokenRequest(
      d.endpoint('token_endpoint'),
      { grant_type: 'refresh_token', client_id: d.spa.clientId, refresh_token: res.body.refresh_token as string },
      undefined,
      {
        origin: SPA_ORIGIN,
      },
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
  });

  // the same sentence: only "from its registered redirect origins"
  it('refuses the token endpoint from any other origin: no Access-Control-Allow-Origin, no token', async () => {
    for (const origin of [EVIL, PARTNER_ORIGIN, 'null', `${SPA_ORIGIN}:8443`, 'http://spa.example.org']) {
      const res = await redeem(d.spa, await codeFor(d.spa), origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(res.status, origin).toBe(400);
      expect(res.body.error, origin).toBe('invalid_request');
      expect(res.body.access_token, origin).toBeUndefined();
    }
  });

  // the same sentence: only "when it is a public client" (a confidential client's secret must
  // never live in a browser), even from an origin it has a redirect URI at
  it('refuses the token endpoint to a confidential client from a browser origin', async () => {
    const res = await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, confidential, {
      origin: SPA_ORIGIN,
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.status).toBe(400);
    expect(res.body.access_token).toBeUndefined();
    // the same request without an Origin (a server) is served
    expect(
      (await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, confidential)).status,
    ).toBe(200);
  });

  // userinfo is a browser app's other call: the same client-based rule applies there
  it('answers userinfo with Access-Control-Allow-Origin only for the client’s own origin', async () => {
    const c = await codeFor(profile, 'openid profile');
    const tokens = await redeem(profile, c, 'https://profile.example.org');
    expect(tokens.status).toBe(200);
    const userinfo = (origin: string) =>
      fetch(d.endpoint('userinfo_endpoint'), { headers: { authorization: `Bearer ${tokens.body.access_token as string}`, origin } });
    const allowed = await userinfo('https://profile.example.org');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://profile.example.org');
    const refused = await userinfo(EVIL);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.text()).not.toContain('preferred_username');
  });

  // introspection and revocation are for servers: no browser origin is ever allowed to read them
  it('never answers introspection or revocation with Access-Control-Allow-Origin for a foreign origin', async () => {
    const t = await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, d.webapp);
    expect(t.status).toBe(200);
    const basic = `Basic ${Buffer.from(`${d.webapp.clientId}:${d.webapp.clientSecret}`).toString('base64')}`;
    for (const endpoint of ['introspection_endpoint', 'revocation_endpoint']) {
      const res = await fetch(d.endpoint(endpoint), {
        method: 'POST',
        headers: { origin: EVIL, authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: t.body.access_token as string }),
      });
      expect(res.status, endpoint).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), endpoint).toBeNull();
    }
  });

  // README: "no JavaScript on any page (forms work without it); `Content-Security-Policy:
  // default-src 'none'; style-src 'self'; form-action 'self' <the client's redirect origins>;
  // frame-ancestors 'none'`"
  it('serves the sign-in page with the documented CSP: form-action is self plus the client’s redirect origin, frame-ancestors none', async () => {
    for (const [client, origin, notOrigin] of [
      [d.spa, SPA_ORIGIN, PARTNER_ORIGIN],
      [d.partner, PARTNER_ORIGIN, SPA_ORIGIN],
    ] as const) {
      const login = expectPage(await new Browser(d).authorize(client), 'login');
      const policy = csp(login.headers);
      expect(policy.get('default-src')).toBe("'none'");
      expect(policy.get('style-src')).toBe("'self'");
      expect(policy.get('form-action')).toBe(`'self' ${origin}`);
      expect(policy.get('form-action')).not.toContain(notOrigin);
      expect(policy.get('frame-ancestors')).toBe("'none'");
      // nothing else opens the policy: no connect, frame or object sources; the one script is the
      // same-origin passkey module ("Sign in with a passkey"), never inline
      expect([...policy.keys()].sort()).toEqual(['base-uri', 'default-src', 'form-action', 'frame-ancestors', 'img-src', 'script-src', 'style-src']);
      expect(policy.get('script-src')).toBe("'self'");
      expect(policy.get('base-uri')).toBe("'none'");
      expect(policy.get('img-src')).toBe("'self'");
      expect([...login.html.matchAll(/<script[^>]*>/gi)].map((m) => m[0])).toEqual(['<script type="module" src="/t/dept/assets/webauthn.js">']);
      expect(login.html).not.toMatch(/<script>|\son\w+=|javascript:/i);
    }
  });

  it('serves the consent page with the same CSP (form-action self plus the client’s redirect origin)', async () => {
    const browser = new Browser(d);
    const consent = expectPage(await browser.signIn(d.partner, 'alice', PASSWORDS.alice), 'consent');
    const policy = csp(consent.headers);
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.get('style-src')).toBe("'self'");
    expect(policy.get('form-action')).toBe(`'self' ${PARTNER_ORIGIN}`);
    expect(policy.get('frame-ancestors')).toBe("'none'");
    expect(consent.html).not.toMatch(/<script|\son\w+=|javascript:/i);
  });

  it('serves the error page (an unregistered redirect_uri) with frame-ancestors none and form-action self only', async () => {
    const browser = new Browser(d);
    const step = await browser.authorize({ clientId: d.spa.clientId, redirectUri: `${EVIL}/cb` });
    if (step.kind !== 'page') throw new Error('expected the error page');
    expect(step.status).toBe(400);
    const policy = csp(step.headers);
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.get('form-action')).toBe("'self'");
    expect(policy.get('frame-ancestors')).toBe("'none'");
  });
});
