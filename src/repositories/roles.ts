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
    create: (data: { name: string; description?: string | null; builtIn?: boolean; permissions: { resourceId: string; scope: string }[] }): Promise<RoleRow> =>
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
    findByNames: (names: string[]): Promise<RoleRow[]> => db.role.findMany({ where: { tenantId, name: { in: names } }, select }),
    findByName: (name: string): Promise<RoleRow | null> => db.role.findFirst({ where: { tenantId, name }, select }),
    page: (opts: Page): Promise<RoleRow[]> => db.role.findMany({ where: { tenantId, ...after(opts) }, select, orderBy: { id: 'asc' }, take: opts.limit }),
    async update(id: string, data: { description?: string | null; permissions?: { resourceId: string; scope: string }[] }): Promise<void> {
      if (data.description !== undefined) await db.role.updateMany({ where: { tenantId, id }, data: { description: data.description } });
      if (data.permissions) {
        await db.permission.deleteMany({ where: { tenantId, roleId: id } });
        await db.permission.createMany({ data: data.permissions.map((p) => ({ ...p, tenantId, roleId: id })) });
      }
    },
    delete: async (id: string): Promise<boolean> => (await db.role.deleteMany({ where: { tenantId, id } })).count === 1,
    /**
     * the role, its row locked until the transaction ends (an assignment of it, which takes a key
     * share lock on the row through the foreign key, waits), and whether a principal holding
     * `protectedRole` holds it too; read in a statement after the lock (see users.lockForUpdate)
     */
    async lockForUpdate(name: string, protectedRole: string): Promise<(RoleRow & { heldByProtected: boolean }) | null> {
      const locked = await db.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM roles WHERE tenant_id = ${tenantId}::uuid AND name = ${name} FOR UPDATE`;
      const id = locked[0]?.id;
      if (!id) return null;
      const [row, held] = await Promise.all([
        db.role.findFirst({ where: { tenantId, id }, select }),
        db.$queryRaw<{ n: number }[]>`
          SELECT (
            (SELECT count(*) FROM user_roles a JOIN user_roles b ON b.tenant_id = a.tenant_id AND b.user_id = a.user_id
               JOIN roles p ON p.id = b.role_id AND p.name = ${protectedRole}
             WHERE a.tenant_id = ${tenantId}::uuid AND a.role_id = ${id}::uuid)
          + (SELECT count(*) FROM client_roles a JOIN client_roles b ON b.tenant_id = a.tenant_id AND b.client_id = a.client_id
               JOIN roles p ON p.id = b.role_id AND p.name = ${protectedRole}
             WHERE a.tenant_id = ${tenantId}::uuid AND a.role_id = ${id}::uuid)
          )::int AS n`,
      ]);
      return row && { ...row, heldByProtected: (held[0]?.n ?? 0) > 0 };
    },
    listAll: (): Promise<RoleRow[]> => db.role.findMany({ where: { tenantId }, select, orderBy: { name: 'asc' } }),
  };
}
export type RoleRepository = ReturnType<typeof createRoleRepository>;
