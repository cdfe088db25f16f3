import type { Db } from './db.ts';
import type { SigningAlg } from '../generated/prisma/enums.ts';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  signingAlg: SigningAlg;
  /** raised by every change to what the tenant's provider is built from (see bumpVersion) */
  version: number;
  /** MFA policy: "none" | "all" | "roles" (holders of `mfaRoles`) */
  mfaRequire: string;
  mfaRoles: string[];
  createdAt: Date;
}

const select = { id: true, slug: true, name: true, signingAlg: true, version: true, mfaRequire: true, mfaRoles: true, createdAt: true } as const;

/** The only repository not scoped to one tenant: it finds and creates tenants. */
export function createTenantRepository(db: Db) {
  return {
    findBySlug: (slug: string): Promise<TenantRow | null> => db.tenant.findUnique({ where: { slug }, select }),
    findById: (id: string): Promise<TenantRow | null> => db.tenant.findUnique({ where: { id }, select }),
    create: (data: { slug: string; name: string; signingAlg: SigningAlg }): Promise<TenantRow> => db.tenant.create({ data, select }),
    /** name and MFA policy; false when there is no such tenant */
    async update(id: string, data: { name?: string; mfaRequire?: string; mfaRoles?: string[] }): Promise<boolean> {
      return (await db.tenant.updateMany({ where: { id }, data })).count === 1;
    },
    /** in the transaction of a change that cached providers must see */
    async bumpVersion(id: string): Promise<void> {
      await db.tenant.updateMany({ where: { id }, data: { version: { increment: 1 } } });
    },
    /** the current version of each of these tenants (one indexed read); a deleted tenant is missing */
    async versions(ids: readonly string[]): Promise<Map<string, number>> {
      if (!ids.length) return new Map();
      const rows = await db.tenant.findMany({ where: { id: { in: [...ids] } }, select: { id: true, version: true } });
      return new Map(rows.map((r) => [r.id, r.version]));
    },
    page: (opts: { after?: string | undefined; limit: number }): Promise<TenantRow[]> =>
      db.tenant.findMany({ select, orderBy: { id: 'asc' }, take: opts.limit, ...(opts.after ? { where: { id: { gt: opts.after } } } : {}) }),
  };
}
export type TenantRepository = ReturnType<typeof createTenantRepository>;
