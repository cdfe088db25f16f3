import { after, type Db, type Page } from './db.ts';
import type { TokenEndpointAuthMethod } from '../generated/prisma/enums.ts';

export interface ClientRow {
  id: string;
  clientId: string;
  name: string;
  grantTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  defaultResourceId: string | null;
  firstParty: boolean;
  builtIn: boolean;
  disabled: boolean;
  refreshTokenAbsoluteTtl: number | null;
  refreshTokenIdleTtl: number | null;
  rateLimitPerHour: number | null;
  roles: string[];
  /** keyed hashes still valid now (the current one and any in their rotation grace period) */
  secrets: { hash: string; expiresAt: Date | null }[];
}

export type NewClient = Omit<
  ClientRow,
  | 'id'
  | 'roles'
  | 'secrets'
  | 'builtIn'
  | 'disabled'
  | 'firstParty'
  | 'postLogoutRedirectUris'
  | 'refreshTokenAbsoluteTtl'
  | 'refreshTokenIdleTtl'
  | 'rateLimitPerHour'
> &
  Partial<Pick<ClientRow, 'builtIn' | 'firstParty' | 'postLogoutRedirectUris' | 'rateLimitPerHour'>> & { roleIds: string[]; secretHash: string | null };

const select = (now: Date) => ({
  id: true as const,
  clientId: true,
  name: true,
  grantTypes: true,
  redirectUris: true,
  postLogoutRedirectUris: true,
  tokenEndpointAuthMethod: true,
  defaultResourceId: true,
  firstParty: true,
  builtIn: true,
  disabled: true,
  refreshTokenAbsoluteTtl: true,
  refreshTokenIdleTtl: true,
  rateLimitPerHour: true,
  roles: { select: { role: { select: { name: true } } } },
  secrets: {
    select: { hash: true, expiresAt: true },
    where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    orderBy: { createdAt: 'desc' as const },
  },
});

type Selected = Omit<ClientRow, 'roles'> & { roles: { role: { name: string } }[] };
const toRow = (c: Selected): ClientRow => ({ ...c, roles: c.roles.map((r) => r.role.name).sort() });

export function createClientRepository(db: Db, tenantId: string) {
  return {
    async create(data: NewClient): Promise<ClientRow> {
      const { roleIds, secretHash, ...fields } = data;
      const client = await db.client.create({
        data: {
          ...fields,
          tenantId,
          roles: { create: roleIds.map((roleId) => ({ roleId, tenantId })) },
          ...(secretHash ? { secrets: { create: [{ hash: secretHash, tenantId }] } } : {}),
        },
        select: select(new Date()),
      });
      return toRow(client);
    },
    async page(opts: Page): Promise<ClientRow[]> {
      const rows = await db.client.findMany({ where: { tenantId, ...after(opts) }, select: select(new Date()), orderBy: { id: 'asc' }, take: opts.limit });
      return rows.map(toRow);
    },
    async update(
      id: string,
      data: Partial<
        Pick<
          ClientRow,
          | 'name'
          | 'grantTypes'
          | 'redirectUris'
          | 'postLogoutRedirectUris'
          | 'defaultResourceId'
          | 'disabled'
          | 'firstParty'
          | 'refreshTokenAbsoluteTtl'
          | 'refreshTokenIdleTtl'
          | 'rateLimitPerHour'
        >
      >,
      roleIds?: string[],
    ): Promise<void> {
      if (Object.keys(data).length) await db.client.updateMany({ where: { tenantId, id }, data });
      if (roleIds) {
        await db.clientRole.deleteMany({ where: { tenantId, clientId: id } });
        await db.clientRole.createMany({ data: roleIds.map((roleId) => ({ tenantId, clientId: id, roleId })) });
      }
    },
    /** a new secret; secrets without an expiry (the current one) now expire at `graceUntil` */
    async addSecret(id: string, hash: string, graceUntil: Date): Promise<void> {
      await db.clientSecret.updateMany({ where: { tenantId, clientId: id, expiresAt: null }, data: { expiresAt: graceUntil } });
      await db.clientSecret.updateMany({ where: { tenantId, clientId: id, expiresAt: { gt: graceUntil } }, data: { expiresAt: graceUntil } });
      await db.clientSecret.create({ data: { tenantId, clientId: id, hash } });
    },
    delete: async (id: string): Promise<boolean> => (await db.client.deleteMany({ where: { tenantId, id } })).count === 1,
    /** the client, its row locked until the transaction ends (see users.lockForUpdate) */
    async lockForUpdate(clientId: string): Promise<ClientRow | null> {
      const locked = await db.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM clients WHERE tenant_id = ${tenantId}::uuid AND client_id = ${clientId} FOR UPDATE`;
      return locked.length ? this.findByClientId(clientId) : null;
    },
    async findByClientId(clientId: string): Promise<ClientRow | null> {
      const client = await db.client.findUnique({
        where: { tenantId_clientId: { tenantId, clientId } },
        select: select(new Date()),
      });
      return client && toRow(client);
    },
  };
}
export type ClientRepository = ReturnType<typeof createClientRepository>;
