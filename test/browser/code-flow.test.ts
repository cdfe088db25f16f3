/**
 * Authorization code + PKCE over plain HTTP (issue 7): tokens equal to the password grant's,
 * open-redirect attempts refused on an error page, a code redeemed once (a replay revokes what it
 * issued), PKCE verifier mismatch, and the session cookies' attributes.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, PASSWORDS, startBrowserDepartment, type BrowserDepartment } from './fixture.ts';
import { authorize, CookieJar, get, pkcePair } from './http-flow.ts';

const SPA = 'http://127.0.0.1:9/spa/';

describe.each(BACKENDS)('authorization code flow on %s', (backend) => {
  let d: BrowserDepartment;
  beforeAll(async () => {
    d = await startBrowserDepartment(backend, SPA);
  });
  afterAll(() => d?.server.stop());

  const signIn = async (pkce = pkcePair()) => {
    const code = await authorize({
      authorizationEndpoint: d.discovery.authorization_endpoint!,
      clientId: d.spa.clientId,
      redirectUri: SPA,
      challenge: pkce.challenge,
      username: 'alice',
      password: PASSWORDS.alice,
    });
    return { code, pkce };
  };
  const redeem = (code: string, verifier: string) =>
    tokenRequest(d.token, { grant_type: 'authorization_code', client_id: d.spa.clientId, code, redirect_uri: SPA, code_verifier: verifier });
  /** a valid authorization request of the SPA (PKCE S256) */
  const authorizationUrl = () => {
    const url = new URL(d.discovery.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: d.spa.clientId,
      redirect_uri: SPA,
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).toString();
    return url;
  };
  const introspect = (token: string) => tokenRequest(d.discovery.introspection_endpoint!, { token }, d.introspector);

  it('issues the same JWT access token as the password grant, a refresh token and an id_token', async () => {
    const { code, pkce } = await signIn();
    const res = await redeem(code, pkce.verifier);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'outbreaks:read simulate:run' });
    const at = decodeJwt(res.body.access_token as string);
    expect(at).toMatchObject({ iss: d.issuer, aud: API, sub: d.users.alice, client_id: d.spa.clientId, roles: ['analyst', 'viewer'], tenant_id: 'dept' });
    expect(JSON.stringify(at)).not.toContain('alice@dept.example');
    const id = decodeJwt(res.body.id_token as string);
    expect(id).toMatchObject({ iss: d.issuer, aud: d.spa.clientId, sub: d.users.alice, preferred_username: 'alice', email: 'alice@dept.example' });
    // the refresh token rotates like the password grant's
    const refreshed = await tokenRequest(d.token, { grant_type: 'refresh_token', client_id: d.spa.clientId, refresh_token: res.body.refresh_token as string });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(res.body.refresh_token);
    expect((await introspect(refreshed.body.access_token as string)).body.active).toBe(true);
  });

  it('serves userinfo with the standard claims the user has, for a token without an API audience', async () => {
    const s = d.server.tessera.services.forTenant(d.tenantId);
    const app = await s.clients.create({
      name: 'Profile page',
      grantTypes: ['authorization_code'],
      redirectUris: ['http://127.0.0.1:9/profile/'],
      tokenEndpointAuthMethod: 'none',
      firstParty: true,
    });
    const pkce = pkcePair();
    const code = await authorize({
      authorizationEndpoint: d.discovery.authorization_endpoint!,
      clientId: app.clientId,
      redirectUri: 'http://127.0.0.1:9/profile/',
      challenge: pkce.challenge,
      username: 'alice',
      password: PASSWORDS.alice,
      scope: 'openid profile email',
    });
    const res = await tokenRequest(d.token, {
      grant_type: 'authorization_code',
      client_id: app.clientId,
      code,
      redirect_uri: 'http://127.0.0.1:9/profile/',
      code_verifier: pkce.verifier,
    });
    expect(res.status).toBe(200);
    const info = await fetch(d.discovery.userinfo_endpoint!, { headers: { authorization: `Bearer ${res.body.access_token as string}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toEqual({ sub: d.users.alice, preferred_username: 'alice', email: 'alice@dept.example' });
    const unauth = await fetch(d.discovery.userinfo_endpoint!, { headers: { authorization: 'Bearer not-a-token' } });
    expect(unauth.status).toBe(401);
  });

  it('answers a PKCE verifier mismatch with invalid_grant', async () => {
    const { code } = await signIn();
    const res = await redeem(code, pkcePair().verifier);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('redeems a code once; a replay fails and revokes the tokens issued from it', async () => {
    const { code, pkce } = await signIn();
    const first = await redeem(code, pkce.verifier);
    expect(first.status).toBe(200);
    expect((await introspect(first.body.access_token as string)).body.active).toBe(true);
    expect((await introspect(first.body.refresh_token as string)).body.active).toBe(true);
    const again = await redeem(code, pkce.verifier);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    expect((await introspect(first.body.access_token as string)).body).toEqual({ active: false });
    expect((await introspect(first.body.refresh_token as string)).body).toEqual({ active: false });
  });

  it('refuses unregistered redirect URIs on an error page, never redirecting', async () => {
    const { challenge } = pkcePair();
    for (const redirectUri of ['https://evil.example/cb', `${SPA}extra`, `${SPA}?next=https://evil.example`, 'http://127.0.0.1:9/spa']) {
      const url = new URL(d.discovery.authorization_endpoint!);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: d.spa.clientId,
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      const res = await get(new CookieJar(), url.href);
      expect(res.status, redirectUri).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await res.text();
      expect(html).toContain('Department of Health');
      expect(html).toContain('redirect_uri');
      expect(html).not.toContain('evil.example');
    }
  });

  it('refuses a code flow without PKCE', async () => {
    const url = new URL(d.discovery.authorization_endpoint!);
    url.search = new URLSearchParams({ response_type: 'code', client_id: d.spa.clientId, redirect_uri: SPA, scope: 'openid' }).toString();
    const res = await get(new CookieJar(), url.href);
    // a registered redirect URI: the error goes back to the client, never a code
    const location = new URL(res.headers.get('location')!);
    expect(location.href.startsWith(SPA)).toBe(true);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('sets HttpOnly, SameSite=Lax cookies under the tenant path, and a strict CSP on the login page', async () => {
    const url = authorizationUrl();
    const jar = new CookieJar();
    const res = await get(jar, url.href);
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) {
      expect(c.toLowerCase()).toContain('httponly');
      expect(c.toLowerCase()).toContain('samesite=lax');
      expect(c).toMatch(/path=\/t\/dept\//);
    }
    const page = await get(jar, new URL(res.headers.get('location')!, url).href);
    expect(page.status).toBe(200);
    // the one script is the same-origin passkey module ("Sign in with a passkey"), never inline
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<script(?! type="module" src="\/t\/dept\/assets\/webauthn\.js")|style=/);
    expect(html).toContain('<label for="username">');
    // a post without the CSRF token is refused
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)![1]!;
    const forged = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: PASSWORDS.alice }),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
  });

  it('shows a brute-force lockout as a clear message on the login page', async () => {
    const url = authorizationUrl();
    const jar = new CookieJar();
    const start = await get(jar, url.href);
    const login = await get(jar, new URL(start.headers.get('location')!, url).href);
    const html = await login.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const action = new URL(/<form method="post" action="([^"]+\/login)"/.exec(html)![1]!, url);
    // its own address (TRUST_PROXY): the other tests' address is not locked
    const attempt = () =>
      fetch(action, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.77' },
        body: new URLSearchParams({ csrf, username: 'victor', password: 'wrong-password' }),
      });
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) last = await attempt();
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await last!.text()).toContain('Too many failed sign-in attempts');
  });
});
