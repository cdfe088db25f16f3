/**
 * README promise (Tokens → Revocation, RFC 7009): a client revokes only its own tokens. Another
 * client presenting them gets the same empty 200 as for garbage (RFC 7009 §2.2: the client learns
 * nothing about tokens that are not its own), and the tokens stay valid: the refresh token still
 * refreshes, the access token is still active.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { Browser, expectRedirect, PASSWORDS, startDept, type Credentials, type Dept } from '../helpers/department.ts';

describe.each(BACKENDS)('revocation of another client’s tokens on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend);
  });
  afterAll(() => d?.stop());

  const signIn = async (client: Credentials) => {
    const res = await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, client);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { access: res.body.access_token as string, refresh: res.body.refresh_token as string };
  };
  /** RFC 7009 revocation, authenticated as `client` (Basic) or, for a public client, by client_id */
  const revoke = async (token: string, client: Credentials | { clientId: string }, hint?: string) => {
    const res = await fetch(d.endpoint('revocation_endpoint'), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...('clientSecret' in client ? { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}), ...('clientSecret' in client ? {} : { client_id: client.clientId }) }),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  const introspect = async (token: string) => (await tokenRequest(d.endpoint('introspection_endpoint'), { token }, d.webapp)).body;
  const refresh = (refreshToken: string, client: Credentials) =>
    tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'refresh_token', refresh_token: refreshToken }, client);

  // README: "**Revocation** (RFC 7009) at `revocation_endpoint`: a refresh token revokes its whole
  // grant …; a client revokes only its own tokens (public clients identify with `client_id`);
  // garbage or repeated revocations answer 200."
  it('answers 200 (empty, as for garbage) when a client revokes another client’s refresh token, which keeps refreshing', async () => {
    const mine = await signIn(d.webapp);
    const garbage = await revoke('not-a-token-at-all', d.other);
    expect(garbage.status).toBe(200);

    for (const hint of [undefined, 'refresh_token', 'access_token']) {
      const res = await revoke(mine.refresh, d.other, hint);
      expect(res.status, `hint ${hint}`).toBe(200);
      // indistinguishable from garbage: the other client learns nothing
      expect(res.text).toBe(garbage.text);
    }
    // a public client of the tenant (identified by client_id) cannot either
    expect((await revoke(mine.refresh, { clientId: d.spa.clientId })).status).toBe(200);

    expect(await introspect(mine.refresh)).toMatchObject({ active: true, client_id: d.webapp.clientId });
    expect(await introspect(mine.access)).toMatchObject({ active: true });
    const refreshed = await refresh(mine.refresh, d.webapp);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(typeof refreshed.body.refresh_token).toBe('string');
    expect(await introspect(refreshed.body.access_token as string)).toMatchObject({ active: true });
    // the token is bound to its client: the other client cannot use it either
    expect((await refresh(refreshed.body.refresh_token as string, d.other)).body.error).toBe('invalid_grant');
    expect((await refresh(refreshed.body.refresh_token as string, d.webapp)).status).toBe(200);
  });

  it('answers 200 when a client revokes another client’s access token, which stays active', async () => {
    const mine = await signIn(d.webapp);
    expect((await revoke(mine.access, d.other)).status).toBe(200);
    expect((await revoke(mine.access, d.machine, 'access_token')).status).toBe(200);
    expect(await introspect(mine.access)).toMatchObject({ active: true, client_id: d.webapp.clientId });
    // and its grant is untouched: the refresh token still refreshes
    expect((await refresh(mine.refresh, d.webapp)).status).toBe(200);
  });

  it('does revoke when the client revokes its own refresh token (the grant ends, access token included)', async () => {
    const mine = await signIn(d.webapp);
    const res = await revoke(mine.refresh, d.webapp);
    expect(res.status).toBe(200);
    expect(await introspect(mine.refresh)).toEqual({ active: false });
    expect(await introspect(mine.access)).toEqual({ active: false });
    const refused = await refresh(mine.refresh, d.webapp);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    // repeated: 200 again
    expect((await revoke(mine.refresh, d.webapp)).status).toBe(200);
  });

  it('lets a public client revoke only its own refresh token, identified by client_id', async () => {
    const browser = new Browser(d);
    const code = expectRedirect(await browser.signIn(d.spa, 'alice', PASSWORDS.alice)).searchParams.get('code')!;
    const tokens = await tokenRequest(d.endpoint('token_endpoint'), {
      grant_type: 'authorization_code',
      client_id: d.spa.clientId,
      code,
      redirect_uri: d.spa.redirectUri,
      code_verifier: browser.pkce.verifier,
    });
    expect(tokens.status).toBe(200);
    const spaRefresh = tokens.body.refresh_token as string;
    // another client (confidential) presenting the SPA's refresh token: no effect
    expect((await revoke(spaRefresh, d.webapp)).status).toBe(200);
    const still = await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'refresh_token', client_id: d.spa.clientId, refresh_token: spaRefresh });
    expect(still.status, JSON.stringify(still.body)).toBe(200);
    // the SPA itself: revoked
    const next = still.body.refresh_token as string;
    expect((await revoke(next, { clientId: d.spa.clientId })).status).toBe(200);
    expect((await tokenRequest(d.endpoint('token_endpoint'), { grant_type: 'refresh_token', client_id: d.spa.clientId, refresh_token: next })).body.error).toBe(
      'invalid_grant',
    );
  });
});
