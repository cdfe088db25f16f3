import type { Db } from './db.ts';

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
    create: (data: Omit<ResourceRow, 'id'>): Promise<ResourceRow> =>
      db.resource.create({ data: { ...data, tenantId }, select }),
    findByAudience: (audience: string): Promise<ResourceRow | null> =>
      db.resource.findUnique({ where: { tenantId_audience: { tenantId, audience } }, select }),
    findById: (id: string): Promise<ResourceRow | null> => db.resource.findFirst({ where: { tenantId, id }, select }),
    listAll: (): Promise<ResourceRow[]> => db.resource.findMany({ where: { tenantId }, select, orderBy: { audience: 'asc' } }),
  };
}
export type ResourceRepository = ReturnType<typeof createResourceRepository>;
