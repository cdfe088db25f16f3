/**
 * client_credentials over HTTP (CONTRACT §4): RFC 9068 JWTs that verify against the advertised
 * JWKS, audience and scope rules, tenant isolation, RFC 6749 errors. Runs on every backend.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';

const API = 'https://epi.example.org/api';

describe.each(BACKENDS)('client_credentials on %s', (backend) => {
  let server: TestServer;
  let disco: Record<string, string>;
  let discoB: Record<string, string>;
  let job: { clientId: string; clientSecret: string };
  let noRoles: { clientId: string; clientSecret: string };
  let withDefault: { clientId: string; clientSecret: string };
  let clientB: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    server = await startTestServer(backend);
    const { services } = server.tessera;
    const a = await services.tenants.create({ slug: 'health-a', name: 'Health A' });
    const b = await services.tenants.create({ slug: 'health-b', name: 'Health B', signingAlg: 'EdDSA' });
    const sa = services.forTenant(a.id);
    await sa.resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run', 'admin:all'], accessTokenTtl: 600 });
    await sa.roles.create({
      name: 'analyst',
      permissions: [
        { resource: API, scope: 'outbreaks:read' },
        { resource: API, scope: 'simulate:run' },
      ],
    });
    await sa.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    job = (await sa.clients.create({ name: 'nightly job', grantTypes: ['client_credentials'], roles: ['analyst', 'viewer'] })) as typeof job;
    noRoles = (await sa.clients.create({ name: 'no roles', grantTypes: ['client_credentials'] })) as typeof job;
    withDefault = (await sa.clients.create({ name: 'partner', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API })) as typeof job;
    const sb = services.forTenant(b.id);
    await sb.resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read'] });
    await sb.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    clientB = (await sb.clients.create({ name: 'b job', grantTypes: ['client_credentials'], roles: ['viewer'] })) as typeof job;
    disco = await discover(server.url, 'health-a');
    discoB = await discover(server.url, 'health-b');
  });
  afterAll(() => server?.stop());

  it('advertises every endpoint under the tenant issuer', () => {
    expect(disco.issuer).toBe(`${server.url}/t/health-a`);
    for (const k of ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'authorization_endpoint']) {
      expect(disco[k], k).toMatch(new RegExp(`^${server.url}/t/health-a/`));
    }
  });

  it('issues an RFC 9068 JWT that verifies against the advertised JWKS', async () => {
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API }, job);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'outbreaks:read simulate:run' });
    const token = res.body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(header.kid).toBeTruthy();
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(disco.jwks_uri!)), {
      issuer: disco.issuer!,
      audience: API,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(payload).toMatchObject({
      iss: `${server.url}/t/health-a`,
      sub: job.clientId,
      aud: API,
      client_id: job.clientId,
      scope: 'outbreaks:read simulate:run',
      roles: ['analyst', 'viewer'],
      tenant_id: 'health-a',
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('intersects a requested scope with what the roles grant', async () => {
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API, scope: 'simulate:run admin:all' }, job);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('simulate:run');
  });

  it('answers invalid_scope when nothing is left', async () => {
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API, scope: 'admin:all' }, job);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    const none = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API }, noRoles);
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  it("uses the client's default resource when none is requested", async () => {
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials' }, withDefault);
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(res.body.access_token as string, createRemoteJWKSet(new URL(disco.jwks_uri!)), { audience: API });
    expect(payload.scope).toBe('outbreaks:read');
    expect(payload.roles).toEqual(['viewer']);
  });

  it('answers invalid_target for an unknown resource or none at all', async () => {
    const unknown = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: 'https://unknown.example/api' }, job);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_target');
    const missing = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials' }, job);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_target');
  });

  it('answers 401 invalid_client with WWW-Authenticate for a wrong secret', async () => {
    const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API }, { ...job, clientSecret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('keeps tenants apart: clients, keys and issuers', async () => {
    // a client of A is unknown at B
    const cross = await tokenRequest(discoB.token_endpoint!, { grant_type: 'client_credentials', resource: API }, job);
    expect(cross.status).toBe(401);
    expect(cross.body.error).toBe('invalid_client');
    // B signs with its own algorithm and keys
    const resB = await tokenRequest(discoB.token_endpoint!, { grant_type: 'client_credentials', resource: API }, clientB);
    expect(resB.status).toBe(200);
    const tokenB = resB.body.access_token as string;
    expect(decodeProtectedHeader(tokenB).alg).toBe('EdDSA');
    // a token of A fails against B's JWKS and issuer
    const resA = await tokenRequest(disco.token_endpoint!, { grant_type: 'client_credentials', resource: API }, job);
    const tokenA = resA.body.access_token as string;
    await expect(jwtVerify(tokenA, createRemoteJWKSet(new URL(discoB.jwks_uri!)))).rejects.toThrow();
    await expect(jwtVerify(tokenB, createRemoteJWKSet(new URL(disco.jwks_uri!)), { issuer: disco.issuer! })).rejects.toThrow();
  });

  it('signs with every supported algorithm, verifiable with the published JWKS, which holds no private parts', async () => {
    const { services } = server.tessera;
    for (const signingAlg of ['ES256', 'EdDSA', 'RS256'] as const) {
      const slug = `alg-${signingAlg.toLowerCase()}`;
      const t = await services.tenants.create({ slug, name: slug, signingAlg });
      const st = services.forTenant(t.id);
      await st.resources.create({ audience: API, name: 'api', scopes: ['outbreaks:read'] });
      await st.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
      const creds = (await st.clients.create({ name: 'job', grantTypes: ['client_credentials'], roles: ['viewer'] })) as typeof job;
      const d = await discover(server.url, slug);
      const keys = ((await (await fetch(d.jwks_uri!)).json()) as { keys: Record<string, unknown>[] }).keys;
      expect(keys).toHaveLength(2); // active + next
      for (const k of keys) {
        expect(k).toMatchObject({ alg: signingAlg, use: 'sig' });
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k[secret], `${signingAlg} ${secret}`).toBeUndefined();
      }
      const res = await tokenRequest(d.token_endpoint!, { grant_type: 'client_credentials', resource: API }, creds);
      expect(res.status).toBe(200);
      const { payload, protectedHeader } = await jwtVerify(res.body.access_token as string, createRemoteJWKSet(new URL(d.jwks_uri!)), {
        issuer: d.issuer!,
        audience: API,
        typ: 'at+jwt',
        algorithms: [signingAlg],
      });
      expect(protectedHeader.kid).toBe(keys[0]!.kid);
      expect(payload).toMatchObject({ scope: 'outbreaks:read', tenant_id: slug, roles: ['viewer'] });
    }
  });

  it('answers 404 for an unknown tenant', async () => {
    for (const path of ['/t/no-such-tenant/.well-known/openid-configuration', '/t/no-such-tenant/token', '/t/NOT_A_SLUG/jwks']) {
      const res = await fetch(`${server.url}${path}`, { method: path.endsWith('token') ? 'POST' : 'GET' });
      expect(res.status, path).toBe(404);
    }
  });

  it('never takes the issuer from the Host header', async () => {
    const res = await fetch(`${server.url}/t/health-a/.well-known/openid-configuration`, {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    const body = (await res.json()) as Record<string, string>;
    expect(body.issuer).toBe(`${server.url}/t/health-a`);
    expect(body.token_endpoint).toBe(`${server.url}/t/health-a/token`);
  });

  it('publishes only public key material', async () => {
    const jwks = (await (await fetch(disco.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[priv]).toBeUndefined();
    }
  });
});
