/**
 * The tenant pool: an LRU of Promise<Tenant> (concurrent requests for a cold tenant share one
 * build), bounded by TENANT_CACHE_SIZE, with a short negative cache for unknown slugs so a scan of
 * random slugs does not become a scan of the database. `invalidate` drops a tenant so the next
 * request rebuilds it from the database (clients, keys, roles or resources changed).
 *
 * Invalidations arrive by pub/sub, which may lose them (a subscriber connection that drops while a
 * change is published never hears of it). `refresh` bounds the damage: it compares the version
 * each tenant was built from with the database's (one indexed read for every tenant in memory) and
 * drops those that changed or are gone. The server runs it every TENANT_CACHE_MAX_STALENESS
 * seconds and whenever the subscriber reconnects.
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

  return {
    async get(slug: string): Promise<Tenant | null> {
      const cached = entries.get(slug);
      if (cached) {
        stats.hits++;
        return cached;
      }
      if (unknown.has(slug)) return null;
      stats.misses++;
      const found = await opts.load(slug);
      if (!found) {
        unknown.set(slug, true);
        return null;
      }
      // another request may have started the same build while we looked the slug up
      const again = entries.get(slug);
      if (again) return again;
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
      return building;
    },
    /** the tenant if it is built and in memory, without waiting (the request fast path) */
    peek(slug: string): Tenant | undefined {
      const entry = entries.get(slug);
      const tenant = entry && built.get(entry);
      if (tenant) stats.hits++;
      return tenant;
    },
    invalidate(tenantId: string): void {
      const slug = slugById.get(tenantId);
      if (slug !== undefined) entries.delete(slug);
    },
    forgetUnknown(slug: string): void {
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
