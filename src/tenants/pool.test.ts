/**
 * The tenant pool's rules: one build shared by concurrent requests for a cold tenant, the negative
 * cache of unknown slugs, LRU eviction, retry after a failed build, `peek`, `invalidate` and
 * `refresh` (including a tenant rebuilt while the versions were being read).
 *
 * Builds are gated by promises the test settles. The negative cache's clock (lru-cache reads
 * `performance.now()` and caches it until a 1 ms timer fires) is driven by a stubbed
 * `performance.now` and fake `setTimeout`: no real waiting.
 */
import { type Gate, gate, settle } from '../../test/helpers/gate.ts';
import { describe, expect, it, vi } from 'vitest';
import { createTenantPool, type TenantPoolOptions } from './pool.ts';
import type { ServedTenant as Tenant } from './serve.ts';

const fakeTenant = (name: string): Tenant => ({ name }) as unknown as Tenant;

type Found = NonNullable<Awaited<ReturnType<TenantPoolOptions['load']>>>;

/**
 * A database of tenants by slug: `load` finds them, each build resolves at once with a new fake
 * tenant (named slug#n, n counting the builds of that slug) unless `hold` gates it.
 */
function database(initial: Record<string, { id: string; version: number }>) {
  const rows = new Map(Object.entries(initial));
  const builds = new Map<string, number>();
  const held: Gate<Tenant>[] = [];
  let holding = false;
  const build = vi.fn(async (slug: string): Promise<Tenant> => {
    const n = (builds.get(slug) ?? 0) + 1;
    builds.set(slug, n);
    if (holding) {
      const g = gate<Tenant>();
      held.push(g);
      return g.promise;
    }
    return fakeTenant(`${slug}#${n}`);
  });
  const load = vi.fn(async (slug: string): Promise<Found | null> => {
    const row = rows.get(slug);
    if (!row) return null;
    const { id, version } = row;
    return { id, version, build: () => build(slug) };
  });
  const versions = vi.fn(async (ids: string[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const row of rows.values()) if (ids.includes(row.id)) out.set(row.id, row.version);
    return out;
  });
  return {
    rows,
    load,
    build,
    versions,
    held,
    /** builds from now on wait for the test to settle them (through `held`) */
    hold(on: boolean) {
      holding = on;
    },
  };
}

/** a clock for lru-cache's TTLs: performance.now() stubbed, its 1 ms cache timer faked */
function controlledClock() {
  let now = 1_000_000;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const spy = vi.spyOn(performance, 'now').mockImplementation(() => now);
  return {
    advance(ms: number) {
      now += ms;
      // fires lru-cache's timer that forgets its cached reading of the clock
      vi.advanceTimersByTime(ms);
    },
    restore() {
      spy.mockRestore();
      vi.useRealTimers();
    },
  };
}

describe('the tenant pool', () => {
  describe('get', () => {
    it('loads and builds a cold tenant once, then serves it from memory', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      const first = await pool.get('acme');
      expect(first).toEqual({ name: 'acme#1' });
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 1, evictions: 0 });
      const second = await pool.get('acme');
      expect(second).toBe(first);
      expect(db.load).toHaveBeenCalledTimes(1);
      expect(db.load).toHaveBeenCalledWith('acme');
      expect(db.build).toHaveBeenCalledTimes(1);
      expect(pool.stats()).toEqual({ size: 1, hits: 1, misses: 1, evictions: 0 });
    });

    it('shares one build between requests for a cold tenant that arrive while it is being built', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load });
      const a = pool.get('acme');
      await settle();
      // the build has started: these join it
      const b = pool.get('acme');
      const c = pool.get('acme');
      await settle();
      expect(db.load).toHaveBeenCalledTimes(1);
      expect(db.build).toHaveBeenCalledTimes(1);
      const tenant = fakeTenant('acme');
      db.held[0]!.resolve(tenant);
      const got = await Promise.all([a, b, c]);
      expect(got[0]).toBe(tenant);
      expect(got[1]).toBe(tenant);
      expect(got[2]).toBe(tenant);
      expect(pool.stats()).toEqual({ size: 1, hits: 2, misses: 1, evictions: 0 });
    });

    it('shares one lookup and one build between requests that arrive together, while the slug is still being looked up', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      const [a, b, c] = await Promise.all([pool.get('acme'), pool.get('acme'), pool.get('acme')]);
      expect(a).toEqual({ name: 'acme#1' });
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(db.build).toHaveBeenCalledTimes(1);
      expect(db.load).toHaveBeenCalledTimes(1);
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 1, evictions: 0 });
      // later requests are hits
      expect(await pool.get('acme')).toBe(a);
      expect(db.load).toHaveBeenCalledTimes(1);
    });

    it('shares one lookup of an unknown slug too', async () => {
      const db = database({});
      const pool = createTenantPool({ max: 10, load: db.load });
      expect(await Promise.all([pool.get('nope'), pool.get('nope')])).toEqual([null, null]);
      expect(db.load).toHaveBeenCalledTimes(1);
    });

    it('passes a failed lookup on to every request that shared it, and looks up again next time', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.load.mockRejectedValueOnce(new Error('database down'));
      const pool = createTenantPool({ max: 10, load: db.load });
      const results = await Promise.allSettled([pool.get('acme'), pool.get('acme')]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(await pool.get('acme')).toEqual({ name: 'acme#1' });
      expect(db.load).toHaveBeenCalledTimes(2);
    });

    it('keeps tenants apart by slug', async () => {
      const db = database({ acme: { id: 't1', version: 1 }, globex: { id: 't2', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      expect(await pool.get('acme')).toEqual({ name: 'acme#1' });
      expect(await pool.get('globex')).toEqual({ name: 'globex#1' });
      expect(db.load.mock.calls).toEqual([['acme'], ['globex']]);
      expect(pool.stats()).toEqual({ size: 2, hits: 0, misses: 2, evictions: 0 });
    });
  });

  describe('unknown slugs', () => {
    it('are remembered: within the TTL the database is not asked again', async () => {
      const clock = controlledClock();
      try {
        const db = database({});
        const pool = createTenantPool({ max: 10, load: db.load, negativeTtlMs: 5_000 });
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(1);
        expect(pool.stats()).toEqual({ size: 0, hits: 0, misses: 1, evictions: 0 });
        clock.advance(4_999);
        expect(await pool.get('ghost')).toBeNull();
        clock.advance(1);
        // exactly the TTL: still remembered
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(1);
        // remembered answers are neither hits nor misses
        expect(pool.stats()).toEqual({ size: 0, hits: 0, misses: 1, evictions: 0 });
        // other slugs are looked up
        expect(await pool.get('other')).toBeNull();
        expect(db.load.mock.calls).toEqual([['ghost'], ['other']]);
      } finally {
        clock.restore();
      }
    });

    it('are looked up again once the TTL has passed', async () => {
      const clock = controlledClock();
      try {
        const db = database({});
        const pool = createTenantPool({ max: 10, load: db.load, negativeTtlMs: 5_000 });
        expect(await pool.get('ghost')).toBeNull();
        clock.advance(5_001);
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(2);
        expect(pool.stats()).toEqual({ size: 0, hits: 0, misses: 2, evictions: 0 });
        // and remembered again from then on
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(2);
      } finally {
        clock.restore();
      }
    });

    it('are remembered for 10 s by default', async () => {
      const clock = controlledClock();
      try {
        const db = database({});
        const pool = createTenantPool({ max: 10, load: db.load });
        expect(await pool.get('ghost')).toBeNull();
        clock.advance(10_000);
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(1);
        clock.advance(1);
        expect(await pool.get('ghost')).toBeNull();
        expect(db.load).toHaveBeenCalledTimes(2);
      } finally {
        clock.restore();
      }
    });

    it('are looked up again after forgetUnknown, and then found once created', async () => {
      const db = database({});
      const pool = createTenantPool({ max: 10, load: db.load, negativeTtlMs: 60_000 });
      expect(await pool.get('newco')).toBeNull();
      expect(await pool.get('newco')).toBeNull();
      expect(db.load).toHaveBeenCalledTimes(1);
      db.rows.set('newco', { id: 't9', version: 1 });
      // still remembered as unknown until told
      expect(await pool.get('newco')).toBeNull();
      expect(db.load).toHaveBeenCalledTimes(1);
      pool.forgetUnknown('newco');
      expect(await pool.get('newco')).toEqual({ name: 'newco#1' });
      expect(db.load).toHaveBeenCalledTimes(2);
    });

    it('forgetUnknown forgets only the slug given', async () => {
      const db = database({});
      const pool = createTenantPool({ max: 10, load: db.load, negativeTtlMs: 60_000 });
      await pool.get('a');
      await pool.get('b');
      pool.forgetUnknown('a');
      await pool.get('a');
      await pool.get('b');
      expect(db.load.mock.calls).toEqual([['a'], ['b'], ['a']]);
    });
  });

  describe('eviction', () => {
    it('keeps at most `max` tenants, evicting the least recently used, and counts evictions', async () => {
      const db = database({ a: { id: 'ta', version: 1 }, b: { id: 'tb', version: 1 }, c: { id: 'tc', version: 1 } });
      const pool = createTenantPool({ max: 2, load: db.load });
      await pool.get('a');
      await pool.get('b');
      // a is now more recently used than b
      await pool.get('a');
      await pool.get('c');
      expect(pool.stats()).toEqual({ size: 2, hits: 1, misses: 3, evictions: 1 });
      expect(pool.peek('b')).toBeUndefined();
      expect(pool.peek('a')).toEqual({ name: 'a#1' });
      expect(pool.peek('c')).toEqual({ name: 'c#1' });
      // b is rebuilt on demand, evicting a (c was peeked after a)
      expect(await pool.get('b')).toEqual({ name: 'b#2' });
      expect(db.load.mock.calls).toEqual([['a'], ['b'], ['c'], ['b']]);
      expect(pool.stats()).toEqual({ size: 2, hits: 3, misses: 4, evictions: 2 });
      expect(pool.peek('a')).toBeUndefined();
    });

    it('does not count invalidations or dropped failures as evictions', async () => {
      const db = database({ a: { id: 'ta', version: 1 }, bad: { id: 'tx', version: 1 } });
      const pool = createTenantPool({ max: 2, load: db.load });
      await pool.get('a');
      pool.invalidate('ta');
      db.hold(true);
      const failing = pool.get('bad');
      await settle();
      db.held[0]!.reject(new Error('boom'));
      await expect(failing).rejects.toThrow('boom');
      expect(pool.stats()).toEqual({ size: 0, hits: 0, misses: 2, evictions: 0 });
    });

    it('forgets the tenant id of an evicted slug: invalidating it later does not touch a new tenant on that slug', async () => {
      const db = database({ a: { id: 'ta', version: 1 }, b: { id: 'tb', version: 1 } });
      const pool = createTenantPool({ max: 1, load: db.load });
      await pool.get('a');
      await pool.get('b'); // evicts a
      db.rows.set('a', { id: 'ta2', version: 1 }); // a deleted and re-created with the same slug
      await pool.get('a'); // evicts b
      pool.invalidate('ta');
      pool.invalidate('tb');
      expect(pool.peek('a')).toEqual({ name: 'a#2' });
      pool.invalidate('ta2');
      expect(pool.peek('a')).toBeUndefined();
    });

    it('forgets only the evicted tenant id: the others can still be invalidated', async () => {
      const db = database({ a: { id: 'ta', version: 1 }, b: { id: 'tb', version: 1 }, c: { id: 'tc', version: 1 } });
      const pool = createTenantPool({ max: 2, load: db.load });
      await pool.get('a');
      await pool.get('b');
      await pool.get('c'); // evicts a
      pool.invalidate('tb');
      expect(pool.peek('b')).toBeUndefined();
      expect(pool.peek('c')).toEqual({ name: 'c#1' });
      pool.invalidate('tc');
      expect(pool.peek('c')).toBeUndefined();
    });
  });

  describe('a failed build', () => {
    it('is passed on and dropped, so the next request retries', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      db.build.mockRejectedValueOnce(new Error('db down'));
      await expect(pool.get('acme')).rejects.toThrow('db down');
      expect(pool.stats().size).toBe(0);
      expect(pool.peek('acme')).toBeUndefined();
      expect(await pool.get('acme')).toEqual({ name: 'acme#1' });
      expect(db.load).toHaveBeenCalledTimes(2);
      expect(db.build).toHaveBeenCalledTimes(2);
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 2, evictions: 0 });
    });

    it('fails every request that shared it', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load });
      const a = pool.get('acme');
      await settle();
      const b = pool.get('acme');
      db.held[0]!.reject(new Error('bad key'));
      await expect(a).rejects.toThrow('bad key');
      await expect(b).rejects.toThrow('bad key');
      expect(db.build).toHaveBeenCalledTimes(1);
      expect(pool.stats().size).toBe(0);
    });

    it('does not drop a newer build of the same slug that replaced it', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load });
      const old = pool.get('acme');
      await settle();
      // changed while building: invalidated and requested again
      pool.invalidate('t1');
      db.rows.set('acme', { id: 't1', version: 2 });
      const fresh = pool.get('acme');
      await settle();
      expect(db.build).toHaveBeenCalledTimes(2);
      db.held[0]!.reject(new Error('stale build failed'));
      await expect(old).rejects.toThrow('stale build failed');
      const tenant = fakeTenant('acme v2');
      db.held[1]!.resolve(tenant);
      expect(await fresh).toBe(tenant);
      expect(pool.stats().size).toBe(1);
      expect(await pool.get('acme')).toBe(tenant);
      expect(db.load).toHaveBeenCalledTimes(2);
    });
  });

  describe('peek', () => {
    it('returns only a tenant that is built, without waiting or building, and counts it as a hit', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load });
      expect(pool.peek('acme')).toBeUndefined();
      expect(db.load).not.toHaveBeenCalled();
      const pending = pool.get('acme');
      await settle();
      // being built: not yet
      expect(pool.peek('acme')).toBeUndefined();
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 1, evictions: 0 });
      const tenant = fakeTenant('acme');
      db.held[0]!.resolve(tenant);
      await pending;
      expect(pool.peek('acme')).toBe(tenant);
      expect(pool.peek('acme')).toBe(tenant);
      expect(pool.peek('other')).toBeUndefined();
      expect(pool.stats()).toEqual({ size: 1, hits: 2, misses: 1, evictions: 0 });
      expect(db.load).toHaveBeenCalledTimes(1);
    });

    it('does not return a tenant whose build failed', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      db.build.mockRejectedValueOnce(new Error('nope'));
      await expect(pool.get('acme')).rejects.toThrow('nope');
      expect(pool.peek('acme')).toBeUndefined();
      expect(pool.stats().hits).toBe(0);
    });

    it('does not return an invalidated tenant', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      await pool.get('acme');
      pool.invalidate('t1');
      expect(pool.peek('acme')).toBeUndefined();
      expect(pool.stats().hits).toBe(0);
    });
  });

  describe('invalidate', () => {
    it('drops the tenant with that id, so the next request rebuilds it from the database', async () => {
      const db = database({ acme: { id: 't1', version: 1 }, globex: { id: 't2', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      await pool.get('acme');
      await pool.get('globex');
      pool.invalidate('t1');
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 2, evictions: 0 });
      expect(pool.peek('globex')).toEqual({ name: 'globex#1' });
      expect(await pool.get('acme')).toEqual({ name: 'acme#2' });
      expect(db.load.mock.calls).toEqual([['acme'], ['globex'], ['acme']]);
      expect(db.build).toHaveBeenCalledTimes(3);
    });

    it('takes a tenant id, not a slug, and ignores ids it does not hold', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      await pool.get('acme');
      pool.invalidate('acme');
      pool.invalidate('t404');
      expect(pool.stats().size).toBe(1);
      expect(pool.peek('acme')).toEqual({ name: 'acme#1' });
    });

    it('drops a tenant still being built: a later request starts a fresh build', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load });
      const first = pool.get('acme');
      await settle();
      pool.invalidate('t1');
      expect(pool.stats().size).toBe(0);
      const second = pool.get('acme');
      await settle();
      expect(db.build).toHaveBeenCalledTimes(2);
      const old = fakeTenant('old');
      const fresh = fakeTenant('fresh');
      db.held[0]!.resolve(old);
      db.held[1]!.resolve(fresh);
      expect(await first).toBe(old);
      expect(await second).toBe(fresh);
      expect(pool.peek('acme')).toBe(fresh);
    });
  });

  describe('a change that arrives while the row is being read', () => {
    /** a database whose reads wait for the test */
    function slowDatabase(rows: Record<string, { id: string; version: number }>) {
      const db = database(rows);
      const reads: Gate<void>[] = [];
      const load = db.load.getMockImplementation()!;
      // the row is read when asked; the answer arrives when the test says
      db.load.mockImplementation(async (slug: string) => {
        const g = gate<void>();
        reads.push(g);
        const answer = load(slug);
        await g.promise;
        return answer;
      });
      return { db, reads };
    }

    it('makes the lookup read the row again: the tenant is built from what the change left', async () => {
      const { db, reads } = slowDatabase({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load, versions: db.versions });
      const got = pool.get('acme');
      await settle();
      // the read saw version 1; the change (and its message) comes before its answer
      db.rows.set('acme', { id: 't1', version: 2 });
      pool.invalidate('t1');
      reads[0]!.resolve();
      await settle();
      expect(db.load).toHaveBeenCalledTimes(2);
      reads[1]!.resolve();
      expect(await got).toEqual({ name: 'acme#1' });
      expect(db.build).toHaveBeenCalledTimes(1);
      // built from version 2: the version check finds nothing to drop
      expect(await pool.refresh()).toBe(0);
    });

    it('makes a lookup that found nothing look again when the tenant was created meanwhile', async () => {
      const { db, reads } = slowDatabase({});
      const pool = createTenantPool({ max: 10, load: db.load });
      const got = pool.get('late');
      await settle();
      // created (and told) after the read saw nothing, before its answer came back
      db.rows.set('late', { id: 't9', version: 1 });
      pool.forgetUnknown('late');
      reads[0]!.resolve();
      await settle();
      expect(db.load).toHaveBeenCalledTimes(2);
      reads[1]!.resolve();
      expect(await got).toEqual({ name: 'late#1' });
    });

    it('reads the row at most three times, then builds from the last read', async () => {
      const { db, reads } = slowDatabase({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      const got = pool.get('acme');
      for (let i = 0; i < 3; i++) {
        await settle();
        pool.invalidate('t1');
        reads[i]!.resolve();
      }
      expect(await got).toEqual({ name: 'acme#1' });
      expect(db.load).toHaveBeenCalledTimes(3);
    });

    it('keeps what it heard for a lookup still in flight when another one finishes', async () => {
      const { db, reads } = slowDatabase({ a: { id: 'ta', version: 1 }, b: { id: 'tb', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      const gotA = pool.get('a');
      const gotB = pool.get('b');
      await settle();
      pool.invalidate('tb');
      reads[0]!.resolve(); // a finishes first
      expect(await gotA).toEqual({ name: 'a#1' });
      reads[1]!.resolve(); // b's read predates the invalidation: read again
      await settle();
      expect(db.load).toHaveBeenCalledTimes(3);
      reads[2]!.resolve();
      expect(await gotB).toEqual({ name: 'b#1' });
    });

    it('is not joined once it has hung for 5 s: a newer lookup serves, and the hung one changes nothing when it ends', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(1_000_000);
      try {
        const { db, reads } = slowDatabase({ acme: { id: 't1', version: 1 } });
        const pool = createTenantPool({ max: 10, load: db.load });
        const hung = pool.get('acme');
        await settle();
        now.mockReturnValue(1_005_000); // exactly 5 s: still joined
        const joined = pool.get('acme');
        await settle();
        expect(db.load).toHaveBeenCalledTimes(1);
        now.mockReturnValue(1_005_001);
        const fresh = pool.get('acme');
        await settle();
        expect(db.load).toHaveBeenCalledTimes(2);
        reads[1]!.resolve();
        expect(await fresh).toEqual({ name: 'acme#1' });
        // the hung read comes back at last (with a row as old as it is): the newer tenant stands
        reads[0]!.resolve();
        expect(await hung).toBe(await fresh);
        expect(await joined).toBe(await fresh);
        expect(db.build).toHaveBeenCalledTimes(1);
        expect(pool.peek('acme')).toEqual({ name: 'acme#1' });
      } finally {
        now.mockRestore();
      }
    });

    it('lets a hung lookup that ends after the newer one found nothing answer for itself, without marking the slug unknown again', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(4_000_000);
      try {
        const { db, reads } = slowDatabase({});
        const pool = createTenantPool({ max: 10, load: db.load });
        const hung = pool.get('late');
        await settle();
        now.mockReturnValue(4_006_000);
        const fresh = pool.get('late');
        await settle();
        reads[1]!.resolve();
        expect(await fresh).toBeNull(); // the newer lookup: nothing (the slug is marked unknown)
        db.rows.set('late', { id: 't8', version: 1 });
        pool.forgetUnknown('late'); // then created
        reads[0]!.resolve(); // the hung read ends at last: nothing either
        expect(await hung).toBeNull();
        const again = pool.get('late'); // the creation is not forgotten
        await settle();
        reads[2]!.resolve();
        expect(await again).toEqual({ name: 'late#1' });
      } finally {
        now.mockRestore();
      }
    });

    it('keeps the newer lookup joinable when the hung one ends first', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(3_000_000);
      try {
        const { db, reads } = slowDatabase({ acme: { id: 't1', version: 1 } });
        const pool = createTenantPool({ max: 10, load: db.load });
        const hung = pool.get('acme');
        await settle();
        now.mockReturnValue(3_006_000);
        const fresh = pool.get('acme');
        await settle();
        reads[0]!.resolve(); // the hung read ends while the newer one is still reading
        await settle();
        const joining = pool.get('acme');
        await settle();
        expect(db.load).toHaveBeenCalledTimes(2);
        reads[1]!.resolve();
        expect(await joining).toBe(await fresh);
        expect(await hung).toBe(await fresh);
      } finally {
        now.mockRestore();
      }
    });

    it("gives a superseded lookup that found nothing the newer one's answer, and never marks the slug unknown", async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(2_000_000);
      try {
        const { db, reads } = slowDatabase({});
        const pool = createTenantPool({ max: 10, load: db.load });
        const hung = pool.get('late');
        await settle();
        db.rows.set('late', { id: 't7', version: 1 }); // created meanwhile (its message lost)
        now.mockReturnValue(2_006_000);
        const fresh = pool.get('late');
        await settle();
        reads[0]!.resolve(); // the old read: nothing, and it is superseded: it takes the newer one's answer
        await settle();
        reads[1]!.resolve();
        expect(await fresh).toEqual({ name: 'late#1' });
        expect(await hung).toBe(await fresh);
        pool.invalidate('t7');
        const again = pool.get('late');
        await settle();
        reads[2]!.resolve();
        expect(await again).toEqual({ name: 'late#2' });
      } finally {
        now.mockRestore();
      }
    });

    it('ignores changes of other tenants, and forgets what it heard once no lookup is in flight', async () => {
      const { db, reads } = slowDatabase({ acme: { id: 't1', version: 1 }, other: { id: 't2', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      const got = pool.get('acme');
      await settle();
      pool.invalidate('t2');
      pool.forgetUnknown('other');
      reads[0]!.resolve();
      expect(await got).toEqual({ name: 'acme#1' });
      expect(db.load).toHaveBeenCalledTimes(1);
      // a change heard while nothing was in flight does not make a later lookup read twice
      pool.invalidate('t1');
      const again = pool.get('acme');
      await settle();
      reads[1]!.resolve();
      expect(await again).toEqual({ name: 'acme#2' });
      expect(db.load).toHaveBeenCalledTimes(2);
    });
  });

  describe('refresh', () => {
    it('does nothing without a way to read versions', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load });
      await pool.get('acme');
      db.rows.set('acme', { id: 't1', version: 2 });
      expect(await pool.refresh()).toBe(0);
      expect(pool.peek('acme')).toEqual({ name: 'acme#1' });
    });

    it('does not read versions when no tenant is in memory', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const pool = createTenantPool({ max: 10, load: db.load, versions: db.versions });
      expect(await pool.refresh()).toBe(0);
      await pool.get('acme');
      pool.invalidate('t1');
      expect(await pool.refresh()).toBe(0);
      expect(db.versions).not.toHaveBeenCalled();
    });

    it('drops the tenants whose version changed or that are gone, keeps the others, and says how many it dropped', async () => {
      const db = database({
        same: { id: 't1', version: 3 },
        changed: { id: 't2', version: 5 },
        gone: { id: 't3', version: 7 },
      });
      const pool = createTenantPool({ max: 10, load: db.load, versions: db.versions });
      for (const slug of ['same', 'changed', 'gone']) await pool.get(slug);
      db.rows.set('changed', { id: 't2', version: 6 });
      db.rows.delete('gone');
      expect(await pool.refresh()).toBe(2);
      expect(db.versions.mock.calls).toEqual([[['t1', 't2', 't3']]]);
      expect(pool.stats()).toEqual({ size: 1, hits: 0, misses: 3, evictions: 0 });
      expect(pool.peek('same')).toEqual({ name: 'same#1' });
      expect(pool.peek('changed')).toBeUndefined();
      expect(pool.peek('gone')).toBeUndefined();
      // the changed one is rebuilt on demand; the gone one is unknown now
      expect(await pool.get('changed')).toEqual({ name: 'changed#2' });
      expect(await pool.get('gone')).toBeNull();
      // nothing changed since: nothing dropped, the rebuilt one compared at its new version
      expect(await pool.refresh()).toBe(0);
      expect(db.versions.mock.calls[1]).toEqual([['t1', 't2']]);
    });

    it('drops a tenant whose version went backwards (any difference counts)', async () => {
      const db = database({ acme: { id: 't1', version: 4 } });
      const pool = createTenantPool({ max: 10, load: db.load, versions: db.versions });
      await pool.get('acme');
      db.rows.set('acme', { id: 't1', version: 3 });
      expect(await pool.refresh()).toBe(1);
      expect(pool.stats().size).toBe(0);
    });

    it('does not drop a tenant rebuilt while the versions were being read', async () => {
      const db = database({ acme: { id: 't1', version: 1 }, globex: { id: 't2', version: 1 } });
      const reading = gate<Map<string, number>>();
      const versions = vi.fn((_ids: string[]) => reading.promise);
      const pool = createTenantPool({ max: 10, load: db.load, versions });
      await pool.get('acme');
      await pool.get('globex');
      const refreshing = pool.refresh();
      // meanwhile both change; acme's invalidation arrives and it is rebuilt at version 2
      db.rows.set('acme', { id: 't1', version: 2 });
      db.rows.set('globex', { id: 't2', version: 2 });
      pool.invalidate('t1');
      expect(await pool.get('acme')).toEqual({ name: 'acme#2' });
      reading.resolve(
        new Map([
          ['t1', 2],
          ['t2', 2],
        ]),
      );
      // only globex, built from version 1 and not rebuilt since, is dropped
      expect(await refreshing).toBe(1);
      expect(versions.mock.calls).toEqual([[['t1', 't2']]]);
      expect(pool.peek('acme')).toEqual({ name: 'acme#2' });
      expect(pool.peek('globex')).toBeUndefined();
      expect(db.load).toHaveBeenCalledTimes(3);
    });

    it('does not drop (or count) a tenant invalidated while the versions were being read', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      const reading = gate<Map<string, number>>();
      const pool = createTenantPool({ max: 10, load: db.load, versions: () => reading.promise });
      await pool.get('acme');
      const refreshing = pool.refresh();
      pool.invalidate('t1');
      reading.resolve(new Map([['t1', 2]]));
      expect(await refreshing).toBe(0);
      expect(pool.stats().size).toBe(0);
    });

    it('compares a tenant still being built at the version its build started from', async () => {
      const db = database({ acme: { id: 't1', version: 1 } });
      db.hold(true);
      const pool = createTenantPool({ max: 10, load: db.load, versions: db.versions });
      const pending = pool.get('acme');
      await settle();
      db.rows.set('acme', { id: 't1', version: 2 });
      expect(await pool.refresh()).toBe(1);
      expect(pool.stats().size).toBe(0);
      db.held[0]!.resolve(fakeTenant('stale'));
      expect(await pending).toEqual({ name: 'stale' });
      expect(pool.peek('acme')).toBeUndefined();
    });
  });
});
