/**
 * The admin API's authenticator: a Bearer JWT of a tenant of this server, for the admin audience,
 * verified with that tenant's keys, not revoked, carrying the `admin` scope, of a user or client that
 * still exists and is enabled — and the authority its current roles give.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import type { RevocationQuery } from '../repositories/revocations.ts';
import type { TenantPool } from '../tenants/pool.ts';
import { actorOf, authorityOf, createAuthenticator } from './auth.ts';

const URL_ = 'https://id.example';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (payload: Record<string, unknown>) => `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64(payload)}.c2lnbmF0dXJl`;

function setup(
  opts: {
    payload?: Record<string, unknown>;
    revoked?: boolean;
    users?: Record<string, { disabled: boolean; roles: string[] }>;
    clients?: Record<string, { disabled: boolean; roles: string[] }>;
  } = {},
) {
  const seen = { slugs: [] as string[], revocationQueries: [] as RevocationQuery[], audiences: [] as (string | undefined)[] };
  const tenants: Record<string, string> = { system: 'id-system', dept: 'id-dept' };
  const pool = {
    get: async (slug: string) => {
      seen.slugs.push(slug);
      const id = tenants[slug];
      if (!id) return null;
      return {
        model: { id, slug },
        repos: {
          users: { findById: async (id: string) => opts.users?.[id] ?? null },
          clients: { findByClientId: async (id: string) => opts.clients?.[id] ?? null },
        },
        verifyAccessToken: async (token: string, audience?: string) => {
          seen.audiences.push(audience);
          if (token.endsWith('.forged')) throw new Error('signature');
          return opts.payload ?? {};
        },
        revocations: {
          isRevoked: async (q: RevocationQuery) => {
            seen.revocationQueries.push(q);
            return opts.revoked ?? false;
          },
        },
      };
    },
  } as unknown as TenantPool;
  const authenticate = createAuthenticator({ publicUrl: URL_, pool });
  const call = (authorization: string) => authenticate({ get: (h: string) => (h === 'authorization' ? authorization : '') } as never);
  return { call, seen };
}

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
};

const userToken = (tenant: string, extra: Record<string, unknown> = {}) => ({
  iss: `${URL_}/t/${tenant}`,
  sub: 'u1',
  client_id: 'admin-cli',
  scope: 'admin',
  jti: 'j1',
  gid: 'g1',
  iat: 100,
  ...extra,
});

describe('the admin API authenticator', () => {
  it('recognises a platform admin of system, with the token checked against every revocation', async () => {
    const payload = userToken('system');
    const { call, seen } = setup({ payload, users: { u1: { disabled: false, roles: ['platform-admin', 'tenant-admin'] } } });
    const p = await call(`Bearer ${jwt(payload)}`);
    expect(p).toEqual({ tenant: 'system', subject: 'user:u1', authority: { kind: 'platform-admin' } });
    expect(actorOf(p)).toEqual({ actor: 'user:u1@system', authority: { kind: 'platform-admin' } });
    expect(seen.audiences).toEqual([`${URL_}/admin`]);
    expect(seen.revocationQueries).toEqual([{ jti: 'j1', grantId: 'g1', subjects: ['c:admin-cli', 'u:u1'], iat: 100 }]);
  });

  it('recognises a tenant admin, a platform-admin role outside system as nothing more, and no role as nothing', async () => {
    const payload = userToken('dept');
    expect((await setup({ payload, users: { u1: { disabled: false, roles: ['tenant-admin'] } } }).call(`Bearer ${jwt(payload)}`)).authority).toEqual({
      kind: 'tenant-admin',
      tenant: 'dept',
      tenantId: 'id-dept',
    });
    expect((await setup({ payload, users: { u1: { disabled: false, roles: ['platform-admin'] } } }).call(`Bearer ${jwt(payload)}`)).authority).toEqual({
      kind: 'none',
    });
    expect((await setup({ payload, users: { u1: { disabled: false, roles: ['auditor'] } } }).call(`Bearer ${jwt(payload)}`)).authority).toEqual({
      kind: 'none',
    });
  });

  it('recognises a machine client by sub = client_id, with its own roles', async () => {
    const payload = { iss: `${URL_}/t/system`, sub: 'job', client_id: 'job', scope: 'admin', jti: 'j2', iat: 5 };
    const { call, seen } = setup({ payload, clients: { job: { disabled: false, roles: ['platform-admin'] } } });
    expect(await call(`Bearer ${jwt(payload)}`)).toEqual({ tenant: 'system', subject: 'client:job', authority: { kind: 'platform-admin' } });
    expect(seen.revocationQueries).toEqual([{ jti: 'j2', grantId: undefined, subjects: ['c:job'], iat: 5 }]);
    const gone = setup({ payload, clients: { job: { disabled: true, roles: ['platform-admin'] } } });
    expect((await refusal(gone.call(`Bearer ${jwt(payload)}`))).message).toBe('the client of this token no longer exists or is disabled');
    expect((await refusal(setup({ payload }).call(`Bearer ${jwt(payload)}`))).details).toEqual({ invalidToken: true });
  });

  it('refuses a user that is gone or disabled', async () => {
    const payload = userToken('dept');
    const cases: Record<string, { disabled: boolean; roles: string[] }>[] = [{}, { u1: { disabled: true, roles: ['tenant-admin'] } }];
    for (const users of cases) {
      const err = await refusal(setup({ payload, users }).call(`Bearer ${jwt(payload)}`));
      expect(err).toMatchObject({ code: 'unauthorized', message: 'the user of this token no longer exists or is disabled' });
    }
  });

  it('demands the admin scope: 403 insufficient_scope', async () => {
    for (const scope of ['openid', 'admin:read', '', undefined, ['admin']]) {
      const payload = userToken('system', { scope });
      const err = await refusal(setup({ payload, users: { u1: { disabled: false, roles: ['platform-admin'] } } }).call(`Bearer ${jwt(payload)}`));
      expect(err).toMatchObject({ code: 'forbidden', status: 403, details: { insufficientScope: 'admin' } });
    }
    const more = userToken('dept', { scope: 'openid admin profile' });
    expect((await setup({ payload: more, users: { u1: { disabled: false, roles: ['tenant-admin'] } } }).call(`Bearer ${jwt(more)}`)).tenant).toBe('dept');
  });

  it('refuses a revoked token', async () => {
    const payload = userToken('dept');
    const err = await refusal(setup({ payload, revoked: true, users: { u1: { disabled: false, roles: ['tenant-admin'] } } }).call(`Bearer ${jwt(payload)}`));
    expect(err).toMatchObject({ code: 'unauthorized', message: 'the access token has been revoked', details: { invalidToken: true } });
  });

  it('refuses what is no Bearer token of this server, looking nothing up for names that cannot be tenants', async () => {
    const { call, seen } = setup({ payload: userToken('dept') });
    expect((await refusal(call(''))).message).toBe('a Bearer access token for the admin API is required');
    expect((await refusal(call('Basic abc'))).message).toBe('a Bearer access token for the admin API is required');
    expect((await refusal(call('Bearer has spaces'))).message).toBe('a Bearer access token for the admin API is required');
    expect((await refusal(call(`Bearer ${'a'.repeat(8193)}`))).message).toBe('a Bearer access token for the admin API is required');
    expect((await refusal(call('Bearer not-a-jwt'))).message).toBe('the access token is malformed');
    for (const iss of ['https://evil.example/t/dept', `${URL_}/x/dept`, 42, undefined]) {
      expect((await refusal(call(`Bearer ${jwt({ iss })}`))).message).toBe('the access token was not issued by this server');
    }
    for (const slug of ['sys\u0000tem', 'Dept', 'a', 'dept/x', '-dept']) {
      expect((await refusal(call(`Bearer ${jwt({ iss: `${URL_}/t/${slug}` })}`))).message).toBe('the access token was not issued by this server');
    }
    expect(seen.slugs).toEqual([]);
    expect((await refusal(call(`Bearer ${jwt({ iss: `${URL_}/t/gone` })}`))).message).toBe('the access token was not issued by this server');
    expect(seen.slugs).toEqual(['gone']);
    const forged = `Bearer ${jwt({ iss: `${URL_}/t/dept` }).replace(/\.[^.]+$/, '.forged')}`;
    expect(await refusal(call(forged))).toMatchObject({ message: 'the access token is invalid or expired', details: { invalidToken: true } });
    const noBearer = await refusal(call(''));
    expect(noBearer.details).toBeUndefined();
  });

  it('takes the Bearer scheme only as the whole header, and says 401 unauthorized', async () => {
    const payload = userToken('dept');
    const { call } = setup({ payload, users: { u1: { disabled: false, roles: ['tenant-admin'] } } });
    expect((await call(`bearer ${jwt(payload)}`)).tenant).toBe('dept');
    for (const header of [`XBearer ${jwt(payload)}`, `Bearer ${jwt(payload)} x`]) {
      expect(await refusal(call(header))).toMatchObject({ code: 'unauthorized', status: 401, message: 'a Bearer access token for the admin API is required' });
    }
    const missing = await refusal(
      setup({ payload: userToken('dept', { scope: 'openid' }), users: { u1: { disabled: false, roles: ['tenant-admin'] } } }).call(
        `Bearer ${jwt(userToken('dept', { scope: 'openid' }))}`,
      ),
    );
    expect(missing.message).toBe('the access token lacks the "admin" scope');
  });

  it('reads only string members of the token: a numeric sub, client_id or gid names nobody', async () => {
    const payload = { iss: `${URL_}/t/dept`, sub: 7, client_id: 7, gid: 7, scope: 'admin', jti: 'j', iat: 1 };
    const { call, seen } = setup({
      payload,
      users: { '': { disabled: false, roles: ['tenant-admin'] }, '7': { disabled: false, roles: ['tenant-admin'] } },
      clients: { '7': { disabled: false, roles: ['platform-admin'] } },
    });
    // sub is read as '' (not the user "7", not the client "7"): the user '' of this fake
    expect(await call(`Bearer ${jwt(payload)}`)).toEqual({
      tenant: 'dept',
      subject: 'user:',
      authority: { kind: 'tenant-admin', tenant: 'dept', tenantId: 'id-dept' },
    });
    expect(seen.revocationQueries).toEqual([{ jti: 'j', grantId: undefined, subjects: [], iat: 1 }]);
  });
});

describe("the authority a principal's roles give (the admin API and the console)", () => {
  it.each([
    // [tenant, roles, kind]
    ['system', ['platform-admin'], 'platform-admin'],
    ['system', ['platform-admin', 'tenant-admin'], 'platform-admin'],
    ['system', ['tenant-admin'], 'tenant-admin'],
    ['dept', ['tenant-admin'], 'tenant-admin'],
    // every principal that may not administer: no admin role, or platform-admin outside `system`
    ['dept', ['platform-admin'], 'none'],
    ['dept', ['analyst', 'viewer'], 'none'],
    ['dept', [], 'none'],
    ['system', ['analyst'], 'none'],
    ['system', [], 'none'],
  ] as const)('%s with %j → %s', (slug, roles, kind) => {
    const a = authorityOf(slug, 'tid', roles);
    expect(a.kind).toBe(kind);
    if (a.kind === 'tenant-admin') expect(a).toEqual({ kind: 'tenant-admin', tenant: slug, tenantId: 'tid' });
  });
});
