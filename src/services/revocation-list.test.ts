/**
 * The revocation mirror's guarantees on both store backends: a failed write invalidates it, and a
 * rebuild that read SQL before a newer per-subject cut-off cannot lower it again (found in review:
 * a plain SET let a concurrent rebuild restore an older cut-off, and revoked tokens worked again
 * for up to an hour).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../store/index.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import { requiredUrl } from '../../test/helpers/backends.ts';
import type { ArtifactRepository } from '../repositories/artifacts.ts';
import type { RevocationRepository } from '../repositories/revocations.ts';
import { createRevocationList, createRevocationMirror, subjectsOf } from './revocation-list.ts';

const stores: [string, () => Store][] = [['memory', createMemoryStore]];
// npm test runs them on Redis too (a missing Redis fails the file); the mutation run stays in process
if (!process.env.TESSERA_TEST_IN_PROCESS_ONLY) {
  stores.push(['redis', () => createRedisStore(requiredUrl('TEST_REDIS_URL'), { prefix: `tessera-test:${process.pid}:${Date.now()}:`, offlineQueue: true })]);
}

describe.each(stores)('the revocation mirror on the %s store', (_name, make) => {
  const store = make();
  const mirror = createRevocationMirror(store);
  afterAll(async () => {
    mirror.close();
    await store.close();
  });
  const later = new Date(Date.now() + 60_000);
  const empty = { jtis: [], grants: [], subjects: [] };
  let n = 0;
  const tenant = () => `tenant-${Date.now()}-${n++}`;

  it('keeps the newer cut-off when a rebuild from an older SQL read writes after it', async () => {
    const t = tenant();
    await mirror.rebuild(t, async () => empty);
    // the rebuild read SQL (cut-off 100), then a newer revocation (200) was recorded, then the
    // rebuild wrote what it had read
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await store.delete(`rv:ready:${t}`);
    const rebuilding = mirror.rebuild(t, async () => {
      await gate;
      return { ...empty, subjects: [{ subject: 'u:1', notBefore: 100, expiresAt: later }] };
    });
    await mirror.record(t, [{ kind: 'subject', subject: 'u:1', notBefore: 200, expiresAt: later }]);
    release();
    await rebuilding;
    const check = (iat: number) => mirror.check(t, { subjects: ['u:1'], iat }, async () => {});
    expect(await check(150)).toBe(true);
    expect(await check(200)).toBe(true);
    expect(await check(201)).toBe(false);
  });

  it('answers from the mirror only while it is complete', async () => {
    const t = tenant();
    const rebuilds: string[] = [];
    const rebuild = async () => {
      rebuilds.push('rebuild');
      await mirror.rebuild(t, async () => ({ ...empty, jtis: [{ jti: 'old', expiresAt: later }] }));
    };
    expect(await mirror.check(t, { jti: 'old' }, rebuild)).toBe(true);
    expect(rebuilds).toHaveLength(1);
    expect(await mirror.check(t, { jti: 'other' }, rebuild)).toBe(false);
    expect(rebuilds).toHaveLength(1);
    // an invalidation (a failed write elsewhere) makes the next check rebuild first
    await mirror.invalidate(t);
    expect(await mirror.check(t, { jti: 'other' }, rebuild)).toBe(false);
    expect(rebuilds).toHaveLength(2);
  });
});

describe("one tenant's revocation list", () => {
  const later = new Date(Date.now() + 60_000);
  function fakeSql() {
    const state = {
      jtis: [] as { jti: string; expiresAt: Date }[],
      grants: [] as { grantId: string; expiresAt: Date }[],
      subjects: [] as { subject: string; notBefore: number; expiresAt: Date }[],
      sqlChecks: 0,
    };
    const repo = {
      revokeJti: async (jti: string, expiresAt: Date) => void state.jtis.push({ jti, expiresAt }),
      isRevoked: async (q: { jti?: string; grantId?: string; subjects?: readonly string[]; iat?: number }) => {
        state.sqlChecks++;
        return (
          state.jtis.some((j) => j.jti === q.jti) ||
          state.grants.some((g) => g.grantId === q.grantId) ||
          state.subjects.some((s) => q.subjects?.includes(s.subject) && (q.iat === undefined || q.iat <= s.notBefore))
        );
      },
      listLive: async () => ({ jtis: state.jtis, grants: state.grants, subjects: state.subjects }),
    } as unknown as RevocationRepository;
    const artifacts = {
      revokeByGrantId: async (grantId: string, until: Date) => void state.grants.push({ grantId, expiresAt: until }),
    } as unknown as ArtifactRepository;
    return { state, repo, artifacts };
  }

  it('answers from the mirror once built, and writes SQL before the mirror', async () => {
    const store = createMemoryStore();
    const mirror = createRevocationMirror(store);
    const sql = fakeSql();
    const list = createRevocationList(mirror, sql.repo, sql.artifacts, 't1');
    expect(await list.isRevoked({ jti: 'a' })).toBe(false);
    await list.revokeJti('a', later);
    await list.revokeGrant('g');
    expect(sql.state.jtis.map((j) => j.jti)).toEqual(['a']);
    expect(sql.state.grants.map((g) => g.grantId)).toEqual(['g']);
    // the grant is remembered longer than any access token can live
    expect(sql.state.grants[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 86_400_000);
    sql.state.sqlChecks = 0;
    expect(await list.isRevoked({ jti: 'a' })).toBe(true);
    expect(await list.isRevoked({ grantId: 'g' })).toBe(true);
    expect(await list.isRevoked({ jti: 'b', grantId: 'h' })).toBe(false);
    expect(sql.state.sqlChecks).toBe(0);
    mirror.close();
  });

  it('asks SQL when the store fails, and after a mirror write failed until the invalidation lands', async () => {
    const store = createMemoryStore();
    let broken = false;
    const flaky = new Proxy(store, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (broken ? Promise.reject(new Error('redis down')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    }) as Store;
    const errors: unknown[] = [];
    const mirror = createRevocationMirror(flaky, { onError: (e) => errors.push(e) });
    const sql = fakeSql();
    const list = createRevocationList(mirror, sql.repo, sql.artifacts, 't2');
    expect(await list.isRevoked({ jti: 'x' })).toBe(false);
    broken = true;
    await list.revokeJti('x', later);
    expect(errors.length).toBeGreaterThan(0);
    // reads fail too: SQL answers, and it knows
    expect(await list.isRevoked({ jti: 'x' })).toBe(true);
    broken = false;
    // the store is back, the invalidation has not landed yet: still SQL, never the stale mirror
    sql.state.sqlChecks = 0;
    expect(await list.isRevoked({ jti: 'x' })).toBe(true);
    expect(sql.state.sqlChecks).toBe(1);
    // the retry lands within a second; then the mirror is rebuilt from SQL and trusted
    await new Promise((r) => setTimeout(r, 1200));
    sql.state.sqlChecks = 0;
    expect(await list.isRevoked({ jti: 'x' })).toBe(true);
    expect(await list.isRevoked({ jti: 'y' })).toBe(false);
    expect(sql.state.sqlChecks).toBe(0);
    mirror.close();
  });

  it("revokes a subject's tokens up to and including its cut-off second", async () => {
    const mirror = createRevocationMirror(createMemoryStore());
    const t = 't3';
    await mirror.rebuild(t, async () => ({ jtis: [], grants: [], subjects: [] }));
    await mirror.record(t, [{ kind: 'subject', subject: 'u:1', notBefore: 100, expiresAt: later }]);
    const check = (q: { subjects?: string[]; iat?: number }) => mirror.check(t, q, async () => {});
    expect(await check({ subjects: ['c:app', 'u:1'], iat: 99 })).toBe(true);
    expect(await check({ subjects: ['u:1'], iat: 100 })).toBe(true);
    expect(await check({ subjects: ['u:1'], iat: 101 })).toBe(false);
    expect(await check({ subjects: ['u:2'], iat: 50 })).toBe(false);
    expect(await check({ subjects: ['u:1'] })).toBe(true);
    expect(await check({})).toBe(false);
    mirror.close();
  });
});

describe('the revocation mirror, exactly', () => {
  const T0 = new Date('2026-11-29T12:00:00Z').getTime();
  const inOneMinute = () => new Date(Date.now() + 60_000);
  const empty = { jtis: [], grants: [], subjects: [] };
  afterEach(() => vi.useRealTimers());

  /** a memory store whose writes (or increments) fail while `broken` says so */
  function breakable(store: Store = createMemoryStore()) {
    const state = { broken: false, incrementBroken: false };
    const wrapped: Store = {
      ...store,
      set: (k, v, t) => (state.broken ? Promise.reject(new Error('OOM')) : store.set(k, v, t)),
      raise: (k, v, t) => (state.broken ? Promise.reject(new Error('OOM')) : store.raise(k, v, t)),
      increment: (k, t) => (state.broken || state.incrementBroken ? Promise.reject(new Error('OOM')) : store.increment(k, t)),
    };
    return { store: wrapped, raw: store, state };
  }

  it('names the subjects a token is checked against', () => {
    expect(subjectsOf('ann', 'app')).toEqual(['c:app', 'u:ann']);
    expect(subjectsOf('app', 'app')).toEqual(['c:app']);
    expect(subjectsOf('ann', undefined)).toEqual(['u:ann']);
    expect(subjectsOf(undefined, 'app')).toEqual(['c:app']);
    expect(subjectsOf(undefined, undefined)).toEqual([]);
  });

  // every instance reads what every other writes, across versions during a rolling upgrade
  it('keeps its layout in the store: one key per revocation, living as long as the token could', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const store = createMemoryStore();
    const mirror = createRevocationMirror(store);
    const in60 = new Date(T0 + 60_000);
    await mirror.record('t', [
      { kind: 'jti', jti: 'j1', expiresAt: in60 },
      { kind: 'grant', grantId: 'g1', expiresAt: in60 },
      { kind: 'subject', subject: 'u:1', notBefore: 123, expiresAt: in60 },
      // already expired: still kept one second, never a zero or negative time to live
      { kind: 'jti', jti: 'old', expiresAt: new Date(T0 - 5_000) },
    ]);
    expect([await store.get('rv:j:t:j1'), await store.get('rv:g:t:g1'), await store.get('rv:s:t:u:1')]).toEqual(['1', '1', '123']);
    expect([await store.ttl('rv:j:t:j1'), await store.ttl('rv:g:t:g1'), await store.ttl('rv:s:t:u:1')]).toEqual([60_000, 60_000, 60_000]);
    expect(await store.ttl('rv:j:t:old')).toBe(1_000);
    await mirror.invalidate('t');
    expect(await store.get('rv:gen:t')).toBe('1');
    expect(await store.ttl('rv:gen:t')).toBe(30 * 86_400_000);
    await mirror.rebuild('t', async () => empty);
    expect(await store.get('rv:ready:t')).toBe('1');
    expect(await store.ttl('rv:ready:t')).toBe(3_600_000);
    mirror.close();
  });

  it('rebuilds every kind of live revocation', async () => {
    const mirror = createRevocationMirror(createMemoryStore());
    await mirror.rebuild('t', async () => ({
      jtis: [{ jti: 'j', expiresAt: inOneMinute() }],
      grants: [{ grantId: 'g', expiresAt: inOneMinute() }],
      subjects: [{ subject: 'u:1', notBefore: 100, expiresAt: inOneMinute() }],
    }));
    const never = async () => {
      throw new Error('no rebuild expected');
    };
    expect(await mirror.check('t', { jti: 'j' }, never)).toBe(true);
    expect(await mirror.check('t', { grantId: 'g' }, never)).toBe(true);
    expect(await mirror.check('t', { subjects: ['u:1'], iat: 100 }, never)).toBe(true);
    expect(await mirror.check('t', { subjects: ['u:2'] }, never)).toBe(false);
    expect(await mirror.check('t', { jti: 'k', grantId: 'h', subjects: ['u:1'], iat: 101 }, never)).toBe(false);
    mirror.close();
  });

  it("an invalidation of one tenant leaves the others' mirrors trusted", async () => {
    const mirror = createRevocationMirror(createMemoryStore());
    await mirror.rebuild('a', async () => empty);
    await mirror.rebuild('b', async () => empty);
    await mirror.invalidate('a');
    let rebuilt = 0;
    expect(await mirror.check('b', { jti: 'x' }, async () => void rebuilt++)).toBe(false);
    expect(rebuilt).toBe(0);
    mirror.close();
  });

  it('does not trust a rebuild that an invalidation overtook (its ready marker names an older generation)', async () => {
    const store = createMemoryStore();
    const mirror = createRevocationMirror(store);
    // the rebuild read gen 0 and SQL, then a revocation failed to mirror and invalidated (gen 1),
    // then the rebuild marked the mirror ready as of gen 0
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rebuilding = mirror.rebuild('t', async () => {
      await gate;
      return empty;
    });
    await mirror.invalidate('t');
    release();
    await rebuilding;
    expect(await store.get('rv:ready:t')).toBe('0');
    // the next check rebuilds before answering; a rebuild that still cannot complete means "ask SQL"
    let rebuilt = 0;
    expect(await mirror.check('t', { jti: 'x' }, async () => void rebuilt++)).toBeUndefined();
    expect(rebuilt).toBe(1);
    expect(await mirror.check('t', { jti: 'x' }, () => mirror.rebuild('t', async () => ({ ...empty, jtis: [{ jti: 'x', expiresAt: inOneMinute() }] })))).toBe(
      true,
    );
    mirror.close();
  });

  it('without an error handler, a failed write or bump still never throws', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const { store, state } = breakable();
    const mirror = createRevocationMirror(store);
    state.broken = true;
    await expect(mirror.record('t', [{ kind: 'jti', jti: 'j', expiresAt: inOneMinute() }])).resolves.toBeUndefined();
    await expect(mirror.invalidate('t')).resolves.toBeUndefined();
    mirror.close();
  });

  it('retries a failed generation bump every second until it lands, then stops retrying', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const { store, raw, state } = breakable();
    const errors: unknown[] = [];
    const mirror = createRevocationMirror(store, { onError: (e) => errors.push(e) });
    const base = vi.getTimerCount(); // the memory store's own sweeper
    await mirror.rebuild('t', async () => empty);
    state.incrementBroken = true;
    await mirror.record('t', []); // nothing to write: no invalidation
    expect(vi.getTimerCount()).toBe(base);
    await mirror.invalidate('t');
    expect(errors).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(base + 1);
    // dirty: SQL answers (undefined) without touching the store
    expect(await mirror.check('t', { jti: 'x' }, async () => {})).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(base + 1);
    state.incrementBroken = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await raw.get('rv:gen:t')).toBe('1');
    // landed: the next tick finds nothing dirty and stops the timer
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(base);
    expect(errors).toHaveLength(2);
    let rebuilt = 0;
    await mirror.check('t', { jti: 'x' }, async () => void rebuilt++);
    expect(rebuilt).toBe(1);
    mirror.close();
  });

  it('close stops a pending retry', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const { store, state } = breakable();
    const mirror = createRevocationMirror(store);
    const base = vi.getTimerCount(); // the memory store's own sweeper
    state.incrementBroken = true;
    await mirror.invalidate('t');
    expect(vi.getTimerCount()).toBe(base + 1);
    mirror.close();
    expect(vi.getTimerCount()).toBe(base);
  });

  it("a tenant's revocations go straight into its mirror, without a rebuild", async () => {
    const store = createMemoryStore();
    const mirror = createRevocationMirror(store);
    const repo = { revokeJti: async () => {}, isRevoked: async () => false, listLive: async () => empty } as unknown as RevocationRepository;
    const artifacts = { revokeByGrantId: async () => {} } as unknown as ArtifactRepository;
    const list = createRevocationList(mirror, repo, artifacts, 't');
    await list.revokeJti('j', inOneMinute());
    await list.revokeGrant('g');
    expect(await store.get('rv:j:t:j')).toBe('1');
    expect(await store.get('rv:g:t:g')).toBe('1');
    expect(await store.get('rv:gen:t')).toBeNull(); // no invalidation happened
    mirror.close();
  });
});
