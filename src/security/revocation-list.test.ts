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
import { createRevocationMirror } from './revocation-list.ts';

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
