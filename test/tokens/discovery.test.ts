/**
 * README promise (Tenants, issuers and endpoints): every tenant publishes its metadata at
 * `${PUBLIC_URL}/t/T/.well-known/openid-configuration` and at
 * `${PUBLIC_URL}/t/T/.well-known/oauth-authorization-server` (RFC 8414), with the tenant's own
 * issuer and the endpoints a client needs, all derived from PUBLIC_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { startDept, type Dept } from '../helpers/department.ts';

const PUBLIC_URL = 'https://id.example.org';
const ENDPOINTS = ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'authorization_endpoint'];

describe.each(BACKENDS)('RFC 8414 metadata on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend, { PUBLIC_URL });
    await d.tessera.services.tenants.create({ slug: 'health-b', name: 'Health B' });
  });
  afterAll(() => d?.stop());

  const metadata = async (tenant: string, host?: string) => {
    const res = await fetch(`${d.local}/t/${tenant}/.well-known/oauth-authorization-server`, { headers: host ? { host } : {} });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  };

  // README: "Everything a client needs is in its discovery document at
  // `${PUBLIC_URL}/t/T/.well-known/openid-configuration` (also
  // `/.well-known/oauth-authorization-server`): `token_endpoint`, `jwks_uri`,
  // `introspection_endpoint`, `revocation_endpoint`, `userinfo_endpoint`, `authorization_endpoint`."
  it('serves each tenant’s metadata at /.well-known/oauth-authorization-server with its own issuer', async () => {
    for (const tenant of ['dept', 'health-b', 'system']) {
      const { status, type, body } = await metadata(tenant);
      expect(status, tenant).toBe(200);
      expect(type).toContain('application/json');
      const issuer = `${PUBLIC_URL}/t/${tenant}`;
      // RFC 8414 §3.3: the issuer in the metadata is identical to the issuer identifier
      expect(body.issuer).toBe(issuer);
      for (const name of ENDPOINTS) {
        expect(typeof body[name], `${tenant} ${name}`).toBe('string');
        expect(body[name] as string, `${tenant} ${name}`).toMatch(new RegExp(`^${issuer.replace(/[.]/g, '\\.')}/`));
      }
      // RFC 8414 §2: the fields an OAuth client relies on
      expect(body.response_types_supported).toEqual(['code']);
      expect(body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token', 'password']));
      expect(body.code_challenge_methods_supported).toEqual(['S256']);
      expect(body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'none']));
    }
  });

  it('is the same document as the tenant’s openid-configuration', async () => {
    const oidc = (await (await fetch(`${d.local}/t/dept/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect((await metadata('dept')).body).toEqual(oidc);
  });

  // README: "The issuer and every advertised URL come from `PUBLIC_URL`, never from the request's
  // `Host` header." and "An unknown tenant is a `404`."
  it('takes the issuer from PUBLIC_URL whatever the Host header, and answers 404 for an unknown tenant', async () => {
    const forged = await metadata('dept', 'evil.example');
    expect(forged.status).toBe(200);
    expect(forged.body.issuer).toBe(`${PUBLIC_URL}/t/dept`);
    expect(JSON.stringify(forged.body)).not.toContain('evil.example');
    expect((await fetch(`${d.local}/t/no-such-tenant/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('lets a client follow the advertised jwks_uri to the tenant’s own keys', async () => {
    const [a, b] = [(await metadata('dept')).body, (await metadata('health-b')).body];
    const keys = async (m: Record<string, unknown>) =>
      ((await (await fetch(d.localize(m.jwks_uri as string))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const [ka, kb] = [await keys(a), await keys(b)];
    expect(ka.length).toBeGreaterThan(0);
    expect(kb.length).toBeGreaterThan(0);
    expect(ka.filter((k) => kb.includes(k))).toEqual([]);
  });
});
