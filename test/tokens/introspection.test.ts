/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens and refresh tokens,
 * including every forged-token case: all of them get exactly `{"active": false}`.
 */
import { SignJWT, base64url, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, PASSWORDS, startDepartment, type Department } from '../signin/fixture.ts';

describe.each(BACKENDS)('introspection and revocation on %s', (backend) => {
  let d: Department;
  let base: string;
  let privateJwk: JWK;
  let kid: string;

  beforeAll(async () => {
    d = await startDepartment(backend);
    base = `${d.server.url}/t/dept`;
    const tenant = (await d.server.tessera.pool.get('dept'))!;
    privateJwk = tenant.model.keys[0]!;
    kid = tenant.model.activeKid;
  });
  afterAll(() => d?.server.stop());

  const post = async (path: string, form: Record<string, string>, auth: { clientId: string; clientSecret: string } | null = d.machine) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`;
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: new URLSearchParams(form) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const introspect = (token: string, auth: Parameters<typeof post>[2] = d.machine) => post('/token/introspection', { token }, auth);
  const revoke = (token: string, auth: Parameters<typeof post>[2] = d.machine) => post('/token/revocation', { token }, auth);
  const machineToken = async () => (await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine)).body.access_token as string;
  const signIn = async () => (await tokenRequest(d.token, { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, d.webapp)).body;

  /** a token signed with the tenant's real key, with the claims and header we choose */
  const signed = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}, exp: string | number = '5m') =>
    new SignJWT({ client_id: d.machine.clientId, scope: 'outbreaks:read', ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header })
      .setIssuer(`${d.server.url}/t/dept`)
      .setAudience(API)
      .setSubject(d.machine.clientId)
      .setJti(`jti-${Math.random()}`)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(await importJWK(privateJwk, 'ES256'));

  it('requires client authentication', async () => {
    const token = await machineToken();
    for (const auth of [null, { ...d.machine, clientSecret: 'wrong' }, { clientId: 'admin-cli', clientSecret: 'x' }]) {
      const res = await introspect(token, auth);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const r = await revoke(token, null);
    expect(r.status).toBe(401);
  });

  it('describes an active JWT access token', async () => {
    const token = await machineToken();
    const res = await introspect(token, d.webapp); // any confidential client of the tenant may ask
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.body).toMatchObject({
      active: true,
      sub: d.machine.clientId,
      client_id: d.machine.clientId,
      scope: 'outbreaks:read',
      aud: API,
      iss: `${d.server.url}/t/dept`,
      token_type: 'Bearer',
      roles: ['viewer'],
      tenant_id: 'dept',
    });
    for (const k of ['exp', 'iat', 'jti']) expect(res.body[k], k).toBeDefined();
  });

  it('describes an active refresh token', async () => {
    const { refresh_token: rt } = await signIn();
    const res = await introspect(rt as string);
    expect(res.body).toMatchObject({
      active: true,
      sub: d.users.alice,
      client_id: d.webapp.clientId,
      token_type: 'refresh_token',
      tenant_id: 'dept',
      roles: ['analyst', 'viewer'],
    });
  });

  it('answers exactly {"active": false} to every forged, foreign or invalid token', async () => {
    const genuine = await machineToken();
    const [h, p] = genuine.split('.');
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const { d: _d, ...publicJwk } = privateJwk;
    const hmacWithPublicKey = (() => {
      const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid }));
      const payload = p!;
      const sig = createHmac('sha256', JSON.stringify(publicJwk)).update(`${header}.${payload}`).digest('base64url');
      return `${header}.${payload}.${sig}`;
    })();
    const noneAlg = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${p}.`;
    const tampered = `${h}.${base64url.encode(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'simulate:run' }))}.${genuine.split('.')[2]}`;
    const byAttacker = (header: Record<string, unknown>) =>
      new SignJWT({ client_id: d.machine.clientId, scope: 'simulate:run' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
        .setIssuer(`${d.server.url}/t/dept`)
        .setAudience(API)
        .setSubject('mallory')
        .setJti('evil')
        .setExpirationTime('5m')
        .sign(attacker.privateKey);
    const otherTenant = await d.server.tessera.services.tenants.create({ slug: 'elsewhere', name: 'Elsewhere' });
    const s = d.server.tessera.services.forTenant(otherTenant.id);
    await s.resources.create({ audience: API, name: 'api', scopes: ['outbreaks:read'] });
    await s.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    const foreignClient = await s.clients.create({ name: 'x', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
    const foreign = await tokenRequest(
      `${d.server.url}/t/elsewhere/token`,
      { grant_type: 'client_credentials' },
      foreignClient as { clientId: string; clientSecret: string },
    );

    const cases: Record<string, string> = {
      garbage: 'not-a-token',
      empty_segments: '..',
      alg_none: noneAlg,
      hs256_with_public_key: hmacWithPublicKey,
      attacker_key_with_valid_kid: await byAttacker({ kid }),
      embedded_jwk: await byAttacker({ jwk: attackerJwk }),
      jku: await byAttacker({ jku: 'http://127.0.0.1:1/jwks', kid: 'x' }),
      x5u: await byAttacker({ x5u: 'http://127.0.0.1:1/cert', kid: 'x' }),
      tampered_payload: tampered,
      stripped_signature: `${h}.${p}.`,
      expired: await signed({}, {}, Math.floor(Date.now() / 1000) - 60),
      wrong_typ: await signed({}, { typ: 'JWT' }),
      wrong_issuer: await new SignJWT({ client_id: 'x' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer('https://evil.example/t/dept')
        .setAudience(API)
        .setSubject('x')
        .setExpirationTime('5m')
        .sign(await importJWK(privateJwk, 'ES256')),
      other_tenant: foreign.body.access_token as string,
      unknown_refresh_token: 'Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await introspect(token);
      expect(res.status, name).toBe(200);
      expect(res.body, name).toEqual({ active: false });
    }
  });

  it('revokes an access token by jti, only for its own client, durably', async () => {
    const token = await machineToken();
    // another client's attempt is answered 200 and changes nothing
    expect((await revoke(token, d.webapp)).status).toBe(200);
    expect((await introspect(token)).body.active).toBe(true);
    const res = await revoke(token);
    expect(res.status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
    expect(await d.server.tessera.db.prisma.revokedToken.count({ where: { tenantId: d.tenantId } })).toBeGreaterThan(0);
    // garbage and repeated revocations are fine
    expect((await revoke(token)).status).toBe(200);
    expect((await revoke('garbage')).status).toBe(200);
    expect((await post('/token/revocation', {}, d.machine)).status).toBe(400);
  });

  it('revokes a refresh token with its whole grant, access tokens included', async () => {
    const body = await signIn();
    const at = body.access_token as string;
    const rt = body.refresh_token as string;
    const refreshed = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: rt }, d.webapp);
    const at2 = refreshed.body.access_token as string;
    const rt2 = refreshed.body.refresh_token as string;
    expect((await introspect(at)).body.active).toBe(true);
    expect((await revoke(rt2, d.webapp)).status).toBe(200);
    for (const t of [at, at2, rt2]) expect((await introspect(t)).body).toEqual({ active: false });
    const again = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: rt2 }, d.webapp);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('denies the access tokens of a family revoked by refresh-token reuse', async () => {
    const body = await signIn();
    const rt0 = body.refresh_token as string;
    const r1 = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: rt0 }, d.webapp);
    // past REFRESH_TOKEN_REUSE_INTERVAL (2 s): a replay, not a request sent in parallel
    await new Promise((r) => setTimeout(r, 2100));
    const reuse = await tokenRequest(d.token, { grant_type: 'refresh_token', refresh_token: rt0 }, d.webapp);
    expect(reuse.body.error).toBe('invalid_grant');
    for (const t of [body.access_token as string, r1.body.access_token as string]) expect((await introspect(t)).body).toEqual({ active: false });
  });
});
