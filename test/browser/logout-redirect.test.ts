/**
 * Issue 14, "also noticed": post-logout redirect URIs are set through the admin API, and RP-initiated
 * logout returns only to one of them, matched exactly like redirect URIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { PASSWORDS, browse, pkcePair, redeem, startDept, type Dept } from '../security/support.ts';

const APP = 'http://127.0.0.1:9/app/';
const BYE = 'http://127.0.0.1:9/app/signed-out';

describe.each(BACKENDS)('post-logout redirect URIs on %s', (backend) => {
  let d: Dept;
  let clientId: string;
  beforeAll(async () => {
    d = await startDept(backend);
    const res = await d.boss('POST', '/tenants/dept/clients', {
      name: 'App',
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [APP],
      postLogoutRedirectUris: [BYE],
    });
    expect(res.status).toBe(201);
    clientId = res.body.clientId as string;
  });
  afterAll(() => d?.server.stop());

  it('are set and shown through the admin API, and validated like redirect URIs', async () => {
    expect((await d.boss('GET', `/tenants/dept/clients/${clientId}`)).body.postLogoutRedirectUris).toEqual([BYE]);
    const changed = await d.boss('PATCH', `/tenants/dept/clients/${clientId}`, { postLogoutRedirectUris: [BYE, `${BYE}-2`] });
    expect(changed.body.postLogoutRedirectUris).toEqual([BYE, `${BYE}-2`]);
    expect((await d.boss('PATCH', `/tenants/dept/clients/${clientId}`, { postLogoutRedirectUris: ['not a uri'] })).status).toBe(400);
    expect((await d.boss('PATCH', `/tenants/dept/clients/${clientId}`, { postLogoutRedirectUris: [`${BYE}#fragment`] })).status).toBe(400);
    expect((await d.boss('PATCH', `/tenants/dept/clients/${clientId}`, { postLogoutRedirectUris: [BYE] })).status).toBe(200);
  });

  it('returns to a registered one after logout, and refuses any other', async () => {
    const pkce = pkcePair();
    const flow = await browse(d, {
      clientId,
      redirectUri: APP,
      username: 'alice',
      password: PASSWORDS.alice,
      scope: 'openid outbreaks:read',
      challenge: pkce.challenge,
    });
    const tokens = await redeem(d, clientId, APP, flow.code!, pkce.verifier);
    const idToken = tokens.body.id_token as string;
    const end = (target: string) => {
      const url = new URL(d.disco.end_session_endpoint!);
      url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: target, state: 'xyz' }).toString();
      return fetch(url, { redirect: 'manual', headers: { cookie: flow.jar.header() } });
    };
    // another URI, even one that only differs by a path segment: an error page, never a redirect
    for (const target of [`${BYE}/x`, 'https://evil.example/', `${BYE}?next=evil`]) {
      const refused = await end(target);
      expect(refused.status, target).toBe(400);
      expect(refused.headers.get('location')).toBeNull();
    }
    const page = await end(BYE);
    expect(page.status).toBe(200);
    flow.jar.store(page);
    const html = await page.text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(new URL(action, d.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: flow.jar.header() },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`${BYE}?state=xyz`);
  });
});
