import { after, isUuid, type Db, type Page } from './db.ts';

export interface ResourceRow {
  id: string;
  audience: string;
  name: string;
  scopes: string[];
  accessTokenTtl: number;
  builtIn: boolean;
}
const select = { id: true, audience: true, name: true, scopes: true, accessTokenTtl: true, builtIn: true } as const;

export function createResourceRepository(db: Db, tenantId: string) {
  return {
    create: (data: Omit<ResourceRow, 'id'>): Promise<ResourceRow> => db.resource.create({ data: { ...data, tenantId }, select }),
    findByAudience: (audience: string): Promise<ResourceRow | null> => db.resource.findUnique({ where: { tenantId_audience: { tenantId, audience } }, select }),
    findById: async (id: string): Promise<ResourceRow | null> => (!isUuid(id) ? null : db.resource.findFirst({ where: { tenantId, id }, select })),
    page: (opts: Page): Promise<ResourceRow[]> =>
      db.resource.findMany({ where: { tenantId, ...after(opts) }, select, orderBy: { id: 'asc' }, take: opts.limit }),
    update: async (id: string, data: Partial<Pick<ResourceRow, 'name' | 'scopes' | 'accessTokenTtl'>>): Promise<ResourceRow | null> =>
      (await db.resource.updateMany({ where: { tenantId, id }, data })).count ? db.resource.findFirst({ where: { tenantId, id }, select }) : null,
    delete: async (id: string): Promise<boolean> => (await db.resource.deleteMany({ where: { tenantId, id } })).count === 1,
    listAll: (): Promise<ResourceRow[]> => db.resource.findMany({ where: { tenantId }, select, orderBy: { audience: 'asc' } }),
  };
}
export type ResourceRepository = ReturnType<typeof createResourceRepository>;
