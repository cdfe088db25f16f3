/** Speaks to the admin API as a client would: tokens from admin-cli, JSON in, JSON or problem+json out. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { discover, tokenRequest } from '../helpers/oauth.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

export async function adminToken(url: string, tenant: string, username: string, password: string): Promise<string> {
  const disco = await discover(url, tenant);
  const res = await tokenRequest(disco.token_endpoint!, { grant_type: 'password', client_id: 'admin-cli', username, password });
  if (res.status !== 200) throw new Error(`admin token for ${username}@${tenant}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

export function adminClient(url: string, token?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as ApiResponse['body']) : {} };
  };
}

/**
 * Through the admin API: a new tenant `<prefix><random>` with the API https://api.example.org
 * (scope `read`), the role `reader` granting it, and a `client_credentials` job holding `reader`.
 */
export async function createJobTenant(api: ReturnType<typeof adminClient>, prefix: string) {
  const slug = `${prefix}${randomBytes(4).toString('hex')}`;
  const audience = 'https://api.example.org';
  expect((await api('POST', '/tenants', { slug, name: slug })).status).toBe(201);
  expect((await api('POST', `/tenants/${slug}/resources`, { audience, name: 'API', scopes: ['read'] })).status).toBe(201);
  expect((await api('POST', `/tenants/${slug}/roles`, { name: 'reader', permissions: [{ resource: audience, scope: 'read' }] })).status).toBe(201);
  const created = await api('POST', `/tenants/${slug}/clients`, {
    name: 'job',
    grantTypes: ['client_credentials'],
    roles: ['reader'],
    defaultResource: audience,
  });
  expect(created.status).toBe(201);
  return { slug, auth: { clientId: created.body.clientId as string, clientSecret: created.body.clientSecret as string } };
}
