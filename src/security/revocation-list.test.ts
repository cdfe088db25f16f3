/**
 * The revocation mirror's guarantees on both store backends: a failed write invalidates it, and a
 * rebuild that read SQL before a newer per-subject cut-off cannot lower it again (found in review:
 * a plain SET let a concurrent rebuild restore an older cut-off, and revoked tokens worked again
 * for up to an hour).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/index.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import type { ArtifactRepository } from '../repositories/artifacts.ts';
import type { RevocationRepository } from '../repositories/revocations.ts';
import { createRevocationList, createRevocationMirror } from './revocation-list.ts';

const stores: [string, () => Store][] = [['memory', createMemoryStore]];
const redisUrl = process.env.TEST_REDIS_URL;
if (redisUrl) stores.push(['redis', () => createRedisStore(redisUrl, { prefix: `tessera-test:${process.pid}:${Date.now()}:`, offlineQueue: true })]);

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

describe('one tenant\'s revocation list', () => {
  const later = new Date(Date.now() + 60_000);
  function fakeSql() {
    const state = { jtis: [] as { jti: string; expiresAt: Date }[], grants: [] as { grantId: string; expiresAt: Date }[], subjects: [] as { subject: string; notBefore: number; expiresAt: Date }[], sqlChecks: 0 };
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
    const artifacts = { revokeByGrantId: async (grantId: string, until: Date) => void state.grants.push({ grantId, expiresAt: until }) } as unknown as ArtifactRepository;
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

  it('revokes a subject\'s tokens up to and including its cut-off second', async () => {
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
