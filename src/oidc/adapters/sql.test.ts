/**
 * The SQL adapter's rules, against an in-memory artifact repository: values never stored (only
 * their digests), refresh-token rotation noted within a request and committed by the refresh
 * grant's wrapper only when the refresh succeeded, the reuse interval, single-use consumption of
 * everything else, and NUL refused before it reaches PostgreSQL.
 */
import { errors } from 'oidc-provider';
// @ts-expect-error: oidc-provider's request-context storage (Provider.ctx), to run as inside a route
import als from 'oidc-provider/lib/helpers/als.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ArtifactRepository, ArtifactRow, ArtifactWrite } from '../../repositories/artifacts.ts';
import { digest } from '../../security/crypto.ts';
import { requestState } from '../request-context.ts';
import { createSqlAdapter } from './sql.ts';

interface Stored extends ArtifactRow {
  grantId: string | null;
  data: ArtifactWrite;
}

function memoryArtifacts() {
  const rows = new Map<string, Stored>();
  const key = (model: string, id: string) => `${model}/${id}`;
  const revoked: string[] = [];
  const repo = {
    async upsert(model: string, id: string, data: ArtifactWrite) {
      rows.set(key(model, id), { payload: data.payload as never, consumedAt: null, expiresAt: data.expiresAt, grantId: data.grantId, data });
    },
    async find(model: string, id: string) {
      const r = rows.get(key(model, id));
      return r && (!r.expiresAt || r.expiresAt > new Date()) ? r : null;
    },
    async findByUid(model: string, uid: string) {
      return [...rows.entries()].find(([k, r]) => k.startsWith(`${model}/`) && r.data.uid === uid)?.[1] ?? null;
    },
    async findByUserCode(model: string, userCode: string) {
      return [...rows.entries()].find(([k, r]) => k.startsWith(`${model}/`) && r.data.userCode === userCode)?.[1] ?? null;
    },
    async consume(model: string, id: string) {
      const r = rows.get(key(model, id));
      if (!r || r.consumedAt) return false;
      r.consumedAt = new Date();
      return true;
    },
    async rotate(model: string, oldId: string, id: string, data: ArtifactWrite) {
      const old = rows.get(key(model, oldId));
      if (!old || old.consumedAt) return false;
      old.consumedAt = new Date();
      rows.set(key(model, id), { payload: data.payload as never, consumedAt: null, expiresAt: data.expiresAt, grantId: data.grantId, data });
      return true;
    },
    async destroy(model: string, id: string) {
      rows.delete(key(model, id));
    },
    async revokeByGrantId(grantId: string) {
      revoked.push(grantId);
      for (const [k, r] of rows) if (r.grantId === grantId) rows.delete(k);
    },
  } as unknown as ArtifactRepository;
  return { repo, rows, revoked };
}

/** the tests that revoke nothing */
const noRevocation = async () => {
  throw new Error('no grant is revoked here');
};

/** runs `fn` as inside one of oidc-provider's routes (one request) */
const inRequest = <T>(fn: () => Promise<T>): Promise<T> => (als as { run: (s: object, f: () => Promise<T>) => Promise<T> }).run({}, fn);

describe('the SQL adapter', () => {
  it('stores under the digest of the value, never the value, and gives it back on read', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('Session', repo, noRevocation);
    await a.upsert('cookie-value', { jti: 'cookie-value', uid: 'u1', accountId: 'acc' } as never, 60);
    expect([...rows.keys()]).toEqual([`Session/${digest('cookie-value')}`]);
    expect(JSON.stringify([...rows.values()])).not.toContain('cookie-value');
    expect(await a.find('cookie-value')).toMatchObject({ jti: 'cookie-value', uid: 'u1', accountId: 'acc' });
    expect(await a.find('other')).toBeUndefined();
    await a.destroy('cookie-value');
    expect(rows.size).toBe(0);
  });

  it("stores an interaction without its browser session's value, and only an interaction", async () => {
    const { repo, rows } = memoryArtifacts();
    const session = { accountId: 'acc', uid: 'su1', cookie: 'session-cookie-value' };
    await createSqlAdapter('Interaction', repo, noRevocation).upsert('i1', { jti: 'i1', uid: 'x', session } as never, 60);
    expect(JSON.stringify([...rows.values()])).not.toContain('session-cookie-value');
    expect(await createSqlAdapter('Interaction', repo, noRevocation).find('i1')).toMatchObject({ session: { accountId: 'acc', uid: 'su1' } });
    expect((await createSqlAdapter('Interaction', repo, noRevocation).find('i1'))?.session).toEqual({ accountId: 'acc', uid: 'su1' });
    // another model keeps what it is given (a Grant has no session value to drop)
    await createSqlAdapter('Grant', repo, noRevocation).upsert('g1', { jti: 'g1', session: { cookie: 'kept' } } as never, 60);
    expect((await createSqlAdapter('Grant', repo, noRevocation).find('g1'))?.session).toEqual({ cookie: 'kept' });
    // a session member that is not an object is stored as given
    await createSqlAdapter('Interaction', repo, noRevocation).upsert('i3', { jti: 'i3', session: 'opaque' } as never, 60);
    expect((await createSqlAdapter('Interaction', repo, noRevocation).find('i3'))?.session).toBe('opaque');
    // an interaction without a session is stored as given
    await createSqlAdapter('Interaction', repo, noRevocation).upsert('i2', { jti: 'i2', uid: 'y' } as never, 60);
    expect(await createSqlAdapter('Interaction', repo, noRevocation).find('i2')).toEqual({ jti: 'i2', uid: 'y' });
  });

  it('refuses NUL anywhere in what would be stored, before storing', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('Interaction', repo, noRevocation);
    for (const payload of [{ params: { state: 'a\u0000b' } }, { params: { claims: { nested: ['x', { deep: '\u0000' }] } } }, { 'k\u0000': 1 }]) {
      await expect(a.upsert('id', payload as never, 60)).rejects.toBeInstanceOf(errors.InvalidRequest);
    }
    expect(rows.size).toBe(0);
    // deeply nested, without a NUL: stored (no recursion to exhaust)
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    await a.upsert('deep', { params: { deep } } as never, 60);
    expect(rows.size).toBe(1);
  });

  it('consumes single-use artifacts once; a second consumer gets invalid_grant', async () => {
    const { repo } = memoryArtifacts();
    const a = createSqlAdapter('AuthorizationCode', repo, noRevocation);
    await a.upsert('code', { grantId: 'g' } as never, 60);
    await a.consume('code');
    await expect(a.consume('code')).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await a.find('code')).toMatchObject({ consumed: expect.any(Number) });
  });

  it('outside a request, consumes a refresh token at once', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('RefreshToken', repo, noRevocation);
    await a.upsert('rt', { grantId: 'g' } as never, 60);
    await a.consume('rt');
    expect(rows.get(`RefreshToken/${digest('rt')}`)!.consumedAt).toBeInstanceOf(Date);
  });

  it('within a request, only notes a refresh-token rotation: nothing changes until it is committed', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('RefreshToken', repo, noRevocation);
    await a.upsert('rt1', { grantId: 'g' } as never, 60);
    const noted = await inRequest(async () => {
      await a.consume('rt1');
      await a.upsert('rt2', { grantId: 'g', jti: 'rt2' } as never, 60);
      return requestState()!.pendingRotation;
    });
    expect(noted).toMatchObject({ model: 'RefreshToken', oldId: digest('rt1'), id: digest('rt2') });
    expect(noted!.data).toMatchObject({ grantId: 'g', payload: { grantId: 'g' } });
    expect(noted!.data.payload).not.toHaveProperty('jti');
    expect(rows.get(`RefreshToken/${digest('rt1')}`)!.consumedAt).toBeNull();
    expect(rows.has(`RefreshToken/${digest('rt2')}`)).toBe(false);
  });

  it('stores other models at once even within a request', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('Grant', repo, noRevocation);
    await inRequest(async () => {
      await a.consume('nothing');
    }).catch(() => undefined);
    await inRequest(() => a.upsert('grant', { accountId: 'x' } as never, 60));
    expect(rows.has(`Grant/${digest('grant')}`)).toBe(true);
  });

  it('reports a refresh token consumed less than the reuse interval ago as not found, and later as consumed', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('RefreshToken', repo, noRevocation, 500);
    await a.upsert('rt', { grantId: 'g' } as never, 60);
    await a.consume('rt');
    expect(await a.find('rt')).toBeUndefined();
    rows.get(`RefreshToken/${digest('rt')}`)!.consumedAt = new Date(Date.now() - 600);
    expect(await a.find('rt')).toMatchObject({ consumed: expect.any(Number) });
    // other models are never hidden
    const codes = createSqlAdapter('AuthorizationCode', repo, noRevocation, 500);
    await codes.upsert('c', {} as never, 60);
    await codes.consume('c');
    expect(await codes.find('c')).toMatchObject({ consumed: expect.any(Number) });
  });

  it("revokes a grant through the given revocation (the tenant's list), never the repository alone", async () => {
    const { repo, revoked } = memoryArtifacts();
    const seen: string[] = [];
    await createSqlAdapter('RefreshToken', repo, async (g) => void seen.push(g)).revokeByGrantId('g1');
    expect(seen).toEqual(['g1']);
    expect(revoked).toEqual([]);
  });
});

describe('the SQL adapter, exactly', () => {
  afterEach(() => vi.useRealTimers());

  it('indexes what oidc-provider looks up by uid and user code, and gives those back without a value', async () => {
    const { repo, rows } = memoryArtifacts();
    const sessions = createSqlAdapter('Session', repo, noRevocation);
    await sessions.upsert('cookie', { jti: 'cookie', uid: 'uid-1', accountId: 'a' } as never, 60);
    expect(rows.get(`Session/${digest('cookie')}`)!.data).toMatchObject({ uid: 'uid-1', userCode: null, grantId: null });
    const byUid = await sessions.findByUid('uid-1');
    expect(byUid).toEqual({ uid: 'uid-1', accountId: 'a' });
    expect(byUid).not.toHaveProperty('jti');
    expect(await sessions.findByUid('uid-2')).toBeUndefined();
    const devices = createSqlAdapter('DeviceCode', repo, noRevocation);
    await devices.upsert('device', { userCode: 'ABCD-EFGH', grantId: 'g' } as never, 60);
    expect(rows.get(`DeviceCode/${digest('device')}`)!.data).toMatchObject({ userCode: 'ABCD-EFGH', uid: null, grantId: 'g' });
    expect(await devices.findByUserCode('ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH', grantId: 'g' });
    expect(await devices.findByUserCode('NOPE')).toBeUndefined();
  });

  it('stores null members and expires at the given number of seconds, or never', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T12:00:00Z'));
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('Interaction', repo, noRevocation);
    await a.upsert('i', { params: { prompt: null, max_age: 0 } } as never, 60);
    expect(rows.get(`Interaction/${digest('i')}`)!.expiresAt).toEqual(new Date('2026-11-29T12:01:00Z'));
    await a.upsert('forever', { params: {} } as never, 0);
    expect(rows.get(`Interaction/${digest('forever')}`)!.expiresAt).toBeNull();
  });

  it('says why it refuses', async () => {
    const { repo } = memoryArtifacts();
    await expect(createSqlAdapter('Interaction', repo, noRevocation).upsert('i', { params: { state: '\u0000' } } as never, 60)).rejects.toMatchObject({
      error: 'invalid_request',
      error_description: 'request parameters must not contain NUL characters',
    });
    const codes = createSqlAdapter('AuthorizationCode', repo, noRevocation);
    await codes.upsert('c', {} as never, 60);
    await codes.consume('c');
    await expect(codes.consume('c')).rejects.toMatchObject({ error: 'invalid_grant', error_detail: 'AuthorizationCode was already used' });
  });

  it('reports when an artifact was consumed, in whole seconds', async () => {
    const { repo, rows } = memoryArtifacts();
    const a = createSqlAdapter('AuthorizationCode', repo, noRevocation);
    await a.upsert('c', {} as never, 60);
    await a.consume('c');
    rows.get(`AuthorizationCode/${digest('c')}`)!.consumedAt = new Date('2026-11-29T12:00:00.999Z');
    expect((await a.find('c'))!.consumed).toBe(Date.parse('2026-11-29T12:00:00Z') / 1000);
  });

  it('hides a consumed refresh token for exactly the reuse interval', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = new Date('2026-11-29T12:00:00Z');
    vi.setSystemTime(t0);
    const { repo } = memoryArtifacts();
    const a = createSqlAdapter('RefreshToken', repo, noRevocation, 500);
    await a.upsert('rt', { grantId: 'g' } as never, 60);
    await a.consume('rt');
    vi.setSystemTime(t0.getTime() + 499);
    expect(await a.find('rt')).toBeUndefined();
    vi.setSystemTime(t0.getTime() + 500);
    expect(await a.find('rt')).toMatchObject({ consumed: t0.getTime() / 1000 });
  });

  it('takes only a refresh token written after a refresh token was consumed as its rotation', async () => {
    const { repo, rows } = memoryArtifacts();
    const refresh = createSqlAdapter('RefreshToken', repo, noRevocation);
    const access = createSqlAdapter('AccessToken', repo, noRevocation);
    await refresh.upsert('rt1', { grantId: 'g' } as never, 60);
    const state = await inRequest(async () => {
      await refresh.consume('rt1');
      // an opaque access token issued by the same refresh is stored at once, not as the rotation
      await access.upsert('at1', { grantId: 'g' } as never, 60);
      return { ...requestState()! };
    });
    expect(rows.has(`AccessToken/${digest('at1')}`)).toBe(true);
    expect(state.pendingRotation).toBeUndefined();
    expect(state.pendingConsume).toEqual({ model: 'RefreshToken', id: digest('rt1') });
  });
});
