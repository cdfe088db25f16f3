/**
 * The tenant pool: an LRU of Promise<Tenant> (concurrent requests for a cold tenant share one
 * lookup and one build), bounded by TENANT_CACHE_SIZE, with a short negative cache for unknown slugs so a scan of
 * random slugs does not become a scan of the database. `invalidate` drops a tenant so the next
 * request rebuilds it from the database (clients, keys, roles or resources changed).
 *
 * Invalidations arrive by pub/sub, which may lose them (a subscriber connection that drops while a
 * change is published never hears of it). `refresh` bounds the damage: it compares the version
 * each tenant was built from with the database's (one indexed read for every tenant in memory) and
 * drops those that changed or are gone. The server runs it every TENANT_CACHE_MAX_STALENESS
 * seconds and whenever the subscriber reconnects. A message that arrives while the tenant's row is
 * being read (an invalidation, or the creation of a slug just found unknown) makes the lookup read
 * it again, so it is not lost between the read and the build.
 */
import { LRUCache } from 'lru-cache';
import type { ServedTenant as Tenant } from './serve.ts';

export interface TenantPoolOptions {
  max: number;
  /** null when no tenant has this slug; `version` is read before anything the build reads */
  load: (slug: string) => Promise<{ id: string; version: number; build: () => Promise<Tenant> } | null>;
  /** the current versions of these tenants (a deleted one is missing) */
  versions?: (ids: string[]) => Promise<Map<string, number>>;
  negativeTtlMs?: number;
}

export interface PoolStats {
  size: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** how many times a lookup reads a row that changed while it was being read */
const LOOKUP_ATTEMPTS = 3;
/** a lookup this old (ms) is not joined by later requests: they start their own */
const LOOKUP_JOIN_MS = 5_000;

export function createTenantPool(opts: TenantPoolOptions) {
  const stats: PoolStats = { size: 0, hits: 0, misses: 0, evictions: 0 };
  const slugById = new Map<string, string>();
  /** what each entry was built from */
  const builtFrom = new Map<string, { id: string; version: number }>();
  const entries = new LRUCache<string, Promise<Tenant>>({
    max: opts.max,
    dispose: (_value, slug, reason) => {
      if (reason === 'evict') stats.evictions++;
      for (const [id, s] of slugById) if (s === slug) slugById.delete(id);
      builtFrom.delete(slug);
    },
  });
  // built tenants by their entry, for the synchronous `peek`
  const built = new WeakMap<Promise<Tenant>, Tenant>();
  const unknown = new LRUCache<string, true>({ max: 10_000, ttl: opts.negativeTtlMs ?? 10_000 });

  /**
   * Lookups in flight by slug (until the build has started): requests for a cold slug share one
   * read of the database. A lookup older than LOOKUP_JOIN_MS is not joined: a read that hangs (a
   * database that stopped answering) must not hold every later request for the slug once the
   * database is back; a newer lookup supersedes it.
   */
  interface Lookup {
    promise: Promise<{ entry: Promise<Tenant> } | null>;
    startedAt: number;
  }
  const lookups = new Map<string, Lookup>();
  /**
   * While lookups are in flight, what was invalidated (by tenant id) or created (by `slug:<slug>`)
   * and when (a counter): a lookup that read the row before such a message reads it again, so a
   * change is never lost between the read and the build.
   */
  let clock = 0;
  const touched = new Map<string, number>();
  const touch = (key: string) => {
    if (lookups.size) touched.set(key, ++clock);
  };
  const changedSince = (key: string, since: number) => (touched.get(key) ?? 0) > since;

  async function lookUp(slug: string, self: () => Lookup | undefined): Promise<{ entry: Promise<Tenant> } | null> {
    for (let attempt = 1; ; attempt++) {
      const since = clock;
      const found = await opts.load(slug);
      // superseded while it read (it hung): what the newer lookup finds stands
      const current = lookups.get(slug);
      const superseded = current !== self();
      if (superseded) {
        const existing = entries.get(slug);
        if (existing) return { entry: existing };
        if (current) return current.promise;
      }
      // read again at most twice: a tenant changed without pause is still served, and the
      // version check (refresh) bounds how stale it stays
      const again = attempt < LOOKUP_ATTEMPTS;
      if (!found) {
        if (again && changedSince(`slug:${slug}`, since)) continue;
        if (!superseded) unknown.set(slug, true);
        return null;
      }
      if (again && changedSince(found.id, since)) continue;
      const building = found.build();
      entries.set(slug, building);
      slugById.set(found.id, slug);
      builtFrom.set(slug, { id: found.id, version: found.version });
      building.then(
        (tenant) => built.set(building, tenant),
        () => {
          if (entries.get(slug) === building) entries.delete(slug);
        },
      );
      return { entry: building };
    }
  }

  /** a settled lookup leaves the map (unless a newer one took its place) */
  const forget = (slug: string, lookup: Lookup) => {
    if (lookups.get(slug) === lookup) lookups.delete(slug);
    if (!lookups.size) touched.clear();
  };

  return {
    async get(slug: string): Promise<Tenant | null> {
      const cached = entries.get(slug);
      if (cached) {
        stats.hits++;
        return cached;
      }
      if (unknown.has(slug)) return null;
      let lookup = lookups.get(slug);
      if (!lookup || Date.now() - lookup.startedAt > LOOKUP_JOIN_MS) {
        stats.misses++;
        const mine: Lookup = { startedAt: Date.now(), promise: lookUp(slug, () => mine) };
        void mine.promise.then(
          () => forget(slug, mine),
          () => forget(slug, mine),
        );
        lookups.set(slug, mine);
        lookup = mine;
      }
      const found = await lookup.promise;
      return found ? found.entry : null;
    },
    /** the tenant if it is built and in memory, without waiting (the request fast path) */
    peek(slug: string): Tenant | undefined {
      const entry = entries.get(slug);
      const tenant = entry && built.get(entry);
      if (tenant) stats.hits++;
      return tenant;
    },
    invalidate(tenantId: string): void {
      touch(tenantId);
      const slug = slugById.get(tenantId);
      if (slug !== undefined) entries.delete(slug);
    },
    forgetUnknown(slug: string): void {
      touch(`slug:${slug}`);
      unknown.delete(slug);
    },
    /** drops every tenant whose version moved on (or that is gone); resolves with how many */
    async refresh(): Promise<number> {
      if (!opts.versions) return 0;
      const snapshot = [...builtFrom.entries()];
      if (!snapshot.length) return 0;
      const current = await opts.versions(snapshot.map(([, b]) => b.id));
      let dropped = 0;
      for (const [slug, b] of snapshot) {
        // a tenant rebuilt while the versions were read is compared next time, not dropped now
        if (builtFrom.get(slug) === b && current.get(b.id) !== b.version) {
          entries.delete(slug);
          dropped++;
        }
      }
      return dropped;
    },
    stats: (): PoolStats => ({ ...stats, size: entries.size }),
  };
}
export type TenantPool = ReturnType<typeof createTenantPool>;
