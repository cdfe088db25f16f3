import type { Db } from './db.ts';

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
    listAll: (): Promise<RoleRow[]> => db.role.findMany({ where: { tenantId }, select, orderBy: { name: 'asc' } }),
  };
}
export type RoleRepository = ReturnType<typeof createRoleRepository>;
