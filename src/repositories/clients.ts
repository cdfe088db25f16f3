import type { Db } from './db.ts';
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

export type NewClient = Omit<ClientRow, 'id' | 'roles' | 'secrets' | 'builtIn' | 'disabled' | 'firstParty' | 'postLogoutRedirectUris' | 'refreshTokenAbsoluteTtl' | 'refreshTokenIdleTtl' | 'rateLimitPerHour'> &
  Partial<Pick<ClientRow, 'builtIn' | 'firstParty' | 'postLogoutRedirectUris'>> & { roleIds: string[]; secretHash: string | null };

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
