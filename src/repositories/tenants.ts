import type { Db } from './db.ts';
import type { SigningAlg } from '../generated/prisma/enums.ts';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  signingAlg: SigningAlg;
  createdAt: Date;
}

const select = { id: true, slug: true, name: true, signingAlg: true, createdAt: true } as const;

/** The only repository not scoped to one tenant: it finds and creates tenants. */
export function createTenantRepository(db: Db) {
  return {
    findBySlug: (slug: string): Promise<TenantRow | null> => db.tenant.findUnique({ where: { slug }, select }),
    findById: (id: string): Promise<TenantRow | null> => db.tenant.findUnique({ where: { id }, select }),
    create: (data: { slug: string; name: string; signingAlg: SigningAlg }): Promise<TenantRow> =>
      db.tenant.create({ data, select }),
    page: (opts: { after?: string | undefined; limit: number }): Promise<TenantRow[]> =>
      db.tenant.findMany({ select, orderBy: { id: 'asc' }, take: opts.limit, ...(opts.after ? { where: { id: { gt: opts.after } } } : {}) }),
  };
}
export type TenantRepository = ReturnType<typeof createTenantRepository>;
