import { after, type Db, type Page } from './db.ts';

export interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: { resourceId: string; scope: string }[];
}
const select = {
  id: true,
  name: true,
  description: true,
  builtIn: true,
  permissions: { select: { resourceId: true, scope: true } },
} as const;

export function createRoleRepository(db: Db, tenantId: string) {
  return {
    create: (data: {
      name: string;
      description?: string | null;
      builtIn?: boolean;
      permissions: { resourceId: string; scope: string }[];
    }): Promise<RoleRow> =>
      db.role.create({
        data: {
          tenantId,
          name: data.name,
          description: data.description ?? null,
          builtIn: data.builtIn ?? false,
          permissions: { create: data.permissions.map((p) => ({ ...p, tenantId })) },
        },
        select,
      }),
    findByNames: (names: string[]): Promise<RoleRow[]> =>
      db.role.findMany({ where: { tenantId, name: { in: names } }, select }),
    findByName: (name: string): Promise<RoleRow | null> => db.role.findFirst({ where: { tenantId, name }, select }),
    page: (opts: Page): Promise<RoleRow[]> =>
      db.role.findMany({ where: { tenantId, ...after(opts) }, select, orderBy: { id: 'asc' }, take: opts.limit }),
    async update(id: string, data: { description?: string | null; permissions?: { resourceId: string; scope: string }[] }): Promise<void> {
      if (data.description !== undefined) await db.role.updateMany({ where: { tenantId, id }, data: { description: data.description } });
      if (data.permissions) {
        await db.permission.deleteMany({ where: { tenantId, roleId: id } });
        await db.permission.createMany({ data: data.permissions.map((p) => ({ ...p, tenantId, roleId: id })) });
      }
    },
    delete: async (id: string): Promise<boolean> => (await db.role.deleteMany({ where: { tenantId, id } })).count === 1,
    listAll: (): Promise<RoleRow[]> => db.role.findMany({ where: { tenantId }, select, orderBy: { name: 'asc' } }),
  };
}
export type RoleRepository = ReturnType<typeof createRoleRepository>;
