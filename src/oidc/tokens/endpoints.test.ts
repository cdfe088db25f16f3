/**
 * Introspection (RFC 7662) and revocation (RFC 7009) as Tessera serves them, with every dependency
 * faked: what is active and what it says, what each revocation revokes, whose tokens a client may
 * revoke, and the answers to broken requests and failing dependencies.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import type { ClientRow } from '../../repositories/clients.ts';
import type { TenantRepos } from '../../repositories/index.ts';
import type { RevocationQuery } from '../../repositories/revocations.ts';
import type { RevocationList } from '../../services/revocation-list.ts';
import type { TenantModel } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';
import { tokenEndpoints } from './endpoints.ts';

const NOW = Math.floor(Date.now() / 1000);
const jwtPayload: JWTPayload = {
  sub: 'user-1',
  client_id: 'app',
  scope: 'read',
  aud: 'https://api/',
  iss: 'https://id/t/d',
  exp: NOW + 600,
  iat: NOW,
  jti: 'jti-1',
  roles: ['viewer'],
  tenant_id: 'd',
  gid: 'grant-1',
} as JWTPayload;
const client = (clientId: string, extra: Partial<ClientRow> = {}) =>
  ({ clientId, disabled: false, tokenEndpointAuthMethod: 'client_secret_basic', ...extra }) as ClientRow;
const clients: Record<string, ClientRow> = {
  app: client('app'),
  api: client('api'),
  other: client('other'),
  spa: client('spa', { tokenEndpointAuthMethod: 'none' }),
};
const secrets: Record<string, string> = { app: 'app-secret', api: 'api-secret', other: 'other-secret' };

interface Stored {
  kind: 'rt' | 'at';
  clientId: string;
  accountId: string;
  grantId: string;
  scope?: string;
  resource?: string;
  iat: number;
  exp: number;
  isExpired?: boolean;
  consumed?: number;
}

describe('introspection and revocation', () => {
  let server: Server;
  let base: string;
  const log = {
    isRevoked: [] as RevocationQuery[],
    revokedJtis: [] as string[],
    revokedUntil: [] as number[],
    revokedGrants: [] as string[],
    destroyed: [] as string[],
    emitted: [] as string[],
    serverErrors: [] as string[],
  };
  let revoked = false;
  let failing: string | undefined;
  let users: Record<string, { disabled: boolean; roles: string[]; totpSealed?: string | null; passkeyCount?: number }>;
  let mfaPolicy: { require: 'none' | 'all' | 'roles'; roles: string[] } = { require: 'none', roles: [] };
  const tokens = new Map<string, Stored>();

  beforeAll(async () => {
    const model = { issuer: 'https://id/t/d', slug: 'd' } as TenantModel;
    const find = (kind: 'rt' | 'at') => async (value: string) => {
      if (failing === 'find') throw new Error('database down');
      // PostgreSQL refusing a value (22P05: a character it cannot store) is the request's fault
      if (failing === 'bad-input') throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      const t = tokens.get(value);
      if (!t || t.kind !== kind) return undefined;
      return { ...t, isExpired: t.isExpired ?? false, destroy: async () => void log.destroyed.push(value) };
    };
    const provider = {
      RefreshToken: { find: find('rt') },
      AccessToken: { find: find('at') },
      emit: (event: string, _ctx: unknown, arg: unknown) => void log.emitted.push(`${event}:${String(arg)}`),
    } as unknown as Provider;
    const directory = {
      get: async (id: string) => clients[id],
      verifySecret: async (id: string, s: string) => secrets[id] !== undefined && secrets[id] === s,
    } as unknown as ClientDirectory;
    const revocations = {
      isRevoked: async (q: RevocationQuery) => {
        log.isRevoked.push(q);
        if (failing === 'revocations') throw new Error('redis and sql down');
        return revoked;
      },
      revokeJti: async (jti: string, until: Date) => void (log.revokedJtis.push(jti), log.revokedUntil.push(until.getTime())),
      revokeGrant: async (g: string) => void log.revokedGrants.push(g),
    } as unknown as RevocationList;
    const repos = { users: { findById: async (id: string) => users[id] ?? null } } as unknown as TenantRepos;
    const app = new Koa();
    app.use(
      tokenEndpoints({
        provider,
        model,
        repos,
        clients: directory,
        revocations,
        verifyAccessToken: async (t: string) => {
          if (t === 'a.valid.jwt') return jwtPayload;
          if (t === 'a.machine.jwt') return { ...jwtPayload, sub: 'app', gid: undefined };
          if (t === 'no.roles.jwt') return { ...jwtPayload, roles: undefined };
          throw new Error('bad signature');
        },
        onServerError: (err) => void log.serverErrors.push(err.message),
        mfaPolicy: () => mfaPolicy,
      }),
    );
    app.use((ctx) => {
      ctx.status = 418;
    });
    server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => {
    for (const list of Object.values(log)) list.length = 0;
    revoked = false;
    failing = undefined;
    users = { 'user-1': { disabled: false, roles: ['viewer', 'analyst'] } };
    tokens.clear();
    tokens.set('refresh-token-value-123', {
      kind: 'rt',
      clientId: 'app',
      accountId: 'user-1',
      grantId: 'grant-9',
      scope: 'read',
      resource: 'https://api/',
      iat: NOW - 10,
      exp: NOW + 100,
    });
    tokens.set('opaque-access-token-123', {
      kind: 'at',
      clientId: 'spa',
      accountId: 'user-1',
      grantId: 'grant-8',
      scope: 'openid',
      iat: NOW - 5,
      exp: NOW + 50,
    });
  });

  const post = async (path: string, body: Record<string, string>, auth?: string, type = 'application/x-www-form-urlencoded') => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': type, ...(auth ? { authorization: `Basic ${Buffer.from(`${auth}:${secrets[auth]}`).toString('base64')}` } : {}) },
      body: new URLSearchParams(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const introspect = (token: string, auth = 'api') => post('/token/introspection', { token }, auth);
  const revoke = (token: string, auth = 'app') => post('/token/revocation', { token }, auth);

  it('passes other requests through', async () => {
    expect((await fetch(`${base}/token/introspection`)).status).toBe(418);
    expect((await fetch(`${base}/other`, { method: 'POST' })).status).toBe(418);
  });

  it('describes an active JWT access token, checked against its jti, grant and subjects', async () => {
    const res = await introspect('a.valid.jwt');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      sub: 'user-1',
      client_id: 'app',
      scope: 'read',
      aud: 'https://api/',
      iss: 'https://id/t/d',
      exp: jwtPayload.exp,
      iat: jwtPayload.iat,
      jti: 'jti-1',
      token_type: 'Bearer',
      roles: ['viewer'],
      tenant_id: 'd',
    });
    expect(log.isRevoked).toEqual([{ jti: 'jti-1', grantId: 'grant-1', subjects: ['c:app', 'u:user-1'], iat: NOW }]);
    expect(log.emitted).toEqual(['tessera.introspection:true']);
    await introspect('a.machine.jwt');
    expect(log.isRevoked[1]).toEqual({ jti: 'jti-1', grantId: undefined, subjects: ['c:app'], iat: NOW });
  });

  it('says exactly {active:false} for anything revoked, unknown, malformed, expired or inactive', async () => {
    revoked = true;
    expect((await introspect('a.valid.jwt')).body).toEqual({ active: false });
    revoked = false;
    for (const t of ['not.a.validjwt', 'garbage with spaces', 'x'.repeat(9000), 'unknown-token-value', 'a%00b'])
      expect((await introspect(t)).body).toEqual({ active: false });
    tokens.get('refresh-token-value-123')!.isExpired = true;
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
    tokens.get('refresh-token-value-123')!.isExpired = false;
    tokens.get('refresh-token-value-123')!.consumed = NOW;
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
    expect(log.emitted.every((e) => e === 'tessera.introspection:false')).toBe(true);
  });

  it('describes a refresh token and an opaque access token while their user is active', async () => {
    expect((await introspect('refresh-token-value-123')).body).toEqual({
      active: true,
      sub: 'user-1',
      client_id: 'app',
      scope: 'read',
      aud: 'https://api/',
      iss: 'https://id/t/d',
      exp: NOW + 100,
      iat: NOW - 10,
      token_type: 'refresh_token',
      roles: ['viewer', 'analyst'],
      tenant_id: 'd',
    });
    expect(log.isRevoked).toEqual([{ grantId: 'grant-9', subjects: ['c:app', 'u:user-1'], iat: NOW - 10 }]);
    expect((await introspect('opaque-access-token-123')).body).toMatchObject({ active: true, token_type: 'Bearer', client_id: 'spa', scope: 'openid' });
    // a refresh token from a sign-in without the second factor now needed is inactive (it cannot refresh)
    users['user-1'] = { disabled: false, roles: ['viewer', 'analyst'], totpSealed: 'sealed', passkeyCount: 0 };
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
    users['user-1'] = { disabled: false, roles: ['viewer', 'analyst'], totpSealed: null, passkeyCount: 0 };
    mfaPolicy = { require: 'roles', roles: ['analyst'] };
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
    mfaPolicy = { require: 'roles', roles: ['other'] };
    expect((await introspect('refresh-token-value-123')).body).toMatchObject({ active: true });
    mfaPolicy = { require: 'none', roles: [] };
    users['user-1']!.disabled = true;
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
    users = {};
    expect((await introspect('opaque-access-token-123')).body).toEqual({ active: false });
    users = { 'user-1': { disabled: false, roles: [] } };
    revoked = true;
    expect((await introspect('refresh-token-value-123')).body).toEqual({ active: false });
  });

  it('requires a confidential client and a token', async () => {
    const none = await post('/token/introspection', { token: 'a.valid.jwt' });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'invalid_client' });
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="https://id/t/d"');
    expect((await post('/token/introspection', { token: 'a.valid.jwt', client_id: 'spa' })).status).toBe(401);
    expect((await post('/token/introspection', {}, 'api')).body).toEqual({
      error: 'invalid_request',
      error_description: 'missing required parameter(s) (token)',
    });
    expect((await post('/token/introspection', { token: 'x' }, 'api', 'application/json')).status).toBe(400);
    const twice = await fetch(`${base}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=a&token=b',
    });
    expect(await twice.json()).toEqual({ error: 'invalid_request', error_description: 'parameter token must not be provided twice' });
  });

  it('revokes an own JWT access token by jti, and nothing for another client', async () => {
    expect((await revoke('a.valid.jwt', 'other')).status).toBe(200);
    expect(log.revokedJtis).toEqual([]);
    const res = await revoke('a.valid.jwt', 'app');
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    expect(log.revokedJtis).toEqual(['jti-1']);
    expect(log.emitted).toEqual(['tessera.revocation:access_token']);
  });

  it("revokes an own refresh token's whole grant, and another client's not at all", async () => {
    await revoke('refresh-token-value-123', 'other');
    expect(log.revokedGrants).toEqual([]);
    await revoke('refresh-token-value-123', 'app');
    expect(log.revokedGrants).toEqual(['grant-9']);
    expect(log.emitted).toEqual(['tessera.revocation:refresh_token']);
  });

  it('deletes an own opaque access token (a public client names itself), never revoking its grant', async () => {
    const res = await post('/token/revocation', { token: 'opaque-access-token-123', client_id: 'spa' });
    expect(res.status).toBe(200);
    expect(log.destroyed).toEqual(['opaque-access-token-123']);
    expect(log.revokedGrants).toEqual([]);
    expect(log.emitted).toEqual(['tessera.revocation:access_token']);
  });

  it('answers 200 and does nothing for garbage, and requires a token', async () => {
    for (const t of ['garbage', 'a.b.c', 'unknown-token-value']) expect((await revoke(t)).status).toBe(200);
    expect(log.revokedJtis.concat(log.revokedGrants, log.destroyed)).toEqual([]);
    const missing = await post('/token/revocation', {}, 'app');
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'missing required parameter(s) (token)' });
    expect(missing.headers.get('www-authenticate')).toBeNull();
  });

  it('describes a JWT without roles with an empty list of roles', async () => {
    const res = await introspect('no.roles.jwt');
    expect(res.body).toMatchObject({ active: true, roles: [] });
  });

  it('remembers a revoked JWT until it would have expired', async () => {
    expect((await revoke('a.valid.jwt')).status).toBe(200);
    expect(log.revokedUntil).toEqual([(NOW + 600) * 1000]);
  });

  it('serves only POST on its two paths', async () => {
    expect((await fetch(`${base}/token/revocation`)).status).toBe(418);
    expect((await fetch(`${base}/token/introspection`, { method: 'PUT' })).status).toBe(418);
  });

  it('answers 400, not 503, when the database refuses a value of the request', async () => {
    failing = 'bad-input';
    const res = await revoke('refresh-token-value-123');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request contains characters or values that are not allowed' });
    expect(log.serverErrors).toEqual([]);
  });

  it('answers 503 without details when a dependency fails, never active:true', async () => {
    failing = 'revocations';
    const res = await introspect('a.valid.jwt');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' });
    expect(log.serverErrors).toEqual(['redis and sql down']);
    failing = 'find';
    expect((await revoke('refresh-token-value-123')).status).toBe(503);
  });
});
