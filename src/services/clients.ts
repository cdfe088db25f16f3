import { randomBytes } from 'node:crypto';
import { VIRTUAL_CLIENTS, ADMIN_CLI_CLIENT, SYSTEM_ACTOR, type Actor, type GrantType } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { TokenEndpointAuthMethod } from '../generated/prisma/enums.ts';
import { randomSecret } from '../security/crypto.ts';
import { REVOCATION_MEMORY_MS, clientSubject, type MirrorEntry } from './revocation-list.ts';
import type { TenantRepos, TenantScope } from './deps.ts';
import { paginate, type PageInput } from './page.ts';
import type { ClientRow } from '../repositories/clients.ts';
import { authorize, type Operation } from './policy.ts';
import { resolveRoleIds } from './roles.ts';

export interface CreateClientInput {
  name: string;
  grantTypes: GrantType[];
  roles?: string[];
  defaultResource?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** fixed client_id (built-ins, imports); generated when absent */
  clientId?: string;
  firstParty?: boolean;
  rateLimitPerHour?: number;
}

export interface CreatedClient {
  clientId: string;
  /** returned exactly once */
  clientSecret?: string;
}

export interface UpdateClientInput {
  name?: string;
  grantTypes?: GrantType[];
  roles?: string[];
  defaultResource?: string | null;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  disabled?: boolean;
  refreshTokenAbsoluteTtl?: number | null;
  refreshTokenIdleTtl?: number | null;
  rateLimitPerHour?: number | null;
}

export interface ClientView {
  clientId: string;
  name: string;
  grantTypes: string[];
  roles: string[];
  defaultResource: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  builtIn: boolean;
  disabled: boolean;
  refreshTokenAbsoluteTtl: number | null;
  refreshTokenIdleTtl: number | null;
  rateLimitPerHour: number | null;
}

/**
 * schemes that run or read something in the browser rather than reach an app: never a redirect
 * target (RFC 8252's private-use schemes of native apps, `com.example.app:/cb`, stay allowed)
 */
const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);

function checkRedirectUris(uris: string[]) {
  for (const uri of uris) {
    const u = URL.parse(uri);
    if (!u || u.hash || UNSAFE_SCHEMES.has(u.protocol)) throw new AppError('invalid_request', `invalid redirect URI "${uri}"`);
  }
}

export function createClientService({ deps, tenant, repos: r, change }: TenantScope) {
  /** the policy's decision on an existing client, taken again under its row lock */
  const facts = (row: ClientRow) => ({ builtIn: row.builtIn || row.clientId === ADMIN_CLI_CLIENT, roles: row.roles });
  const locked = async (t: TenantRepos, clientId: string, actor: Actor, operation: Operation, assigns?: string[]) => {
    const row = await t.clients.lockForUpdate(clientId);
    if (!row) throw new AppError('not_found', `client "${clientId}" not found`);
    authorize(actor, { operation, tenant, target: facts(row), assigns });
    return row;
  };
  /** everything issued to the client ends: its refresh tokens and grants, and its access tokens up to now */
  const endEverything = async (t: TenantRepos, clientId: string): Promise<MirrorEntry> => {
    const now = Date.now();
    const entry = {
      kind: 'subject' as const,
      subject: clientSubject(clientId),
      notBefore: Math.floor(now / 1000),
      expiresAt: new Date(now + REVOCATION_MEMORY_MS),
    };
    await t.revocations.revokeSubject(entry.subject, entry.notBefore, entry.expiresAt);
    await t.artifacts.revokeByClient(clientId);
    return entry;
  };
  const audiences = async () => new Map((await r.resources.listAll()).map((x) => [x.id, x.audience]));
  const toView = (row: ClientRow, aud: Map<string, string>): ClientView => ({
    clientId: row.clientId,
    name: row.name,
    grantTypes: row.grantTypes,
    roles: row.roles,
    defaultResource: row.defaultResourceId ? (aud.get(row.defaultResourceId) ?? null) : null,
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
    builtIn: row.builtIn,
    disabled: row.disabled,
    refreshTokenAbsoluteTtl: row.refreshTokenAbsoluteTtl,
    refreshTokenIdleTtl: row.refreshTokenIdleTtl,
    rateLimitPerHour: row.rateLimitPerHour,
  });
  const find = async (clientId: string) => {
    const row = await r.clients.findByClientId(clientId);
    if (!row) throw new AppError('not_found', `client "${clientId}" not found`);
    return row;
  };
  const resourceId = async (audience: string) => {
    const res = await r.resources.findByAudience(audience);
    if (!res) throw new AppError('invalid_request', `unknown resource "${audience}"`);
    return res.id;
  };

  return {
    async get(clientId: string): Promise<ClientView> {
      return toView(await find(clientId), await audiences());
    },
    async list(page: PageInput = {}) {
      const aud = await audiences();
      return paginate(
        page,
        (o) => r.clients.page(o),
        (row) => toView(row, aud),
      );
    },
    async update(clientId: string, input: UpdateClientInput, actor: Actor = SYSTEM_ACTOR): Promise<ClientView> {
      const row = await find(clientId);
      authorize(actor, { operation: 'client.update', tenant, target: facts(row), assigns: input.roles });
      if (row.builtIn && (input.grantTypes || input.defaultResource !== undefined || input.disabled)) {
        throw new AppError('conflict', 'the grants, default resource and state of a built-in client cannot change');
      }
      const grantTypes = input.grantTypes ? [...new Set(input.grantTypes)] : row.grantTypes;
      if (!grantTypes.length) throw new AppError('invalid_request', 'grantTypes must not be empty');
      if (row.tokenEndpointAuthMethod === 'none' && grantTypes.includes('client_credentials')) {
        throw new AppError('invalid_request', 'a public client cannot use client_credentials');
      }
      if (input.redirectUris) checkRedirectUris(input.redirectUris);
      if (input.postLogoutRedirectUris) checkRedirectUris(input.postLogoutRedirectUris);
      const redirectUris = input.redirectUris ?? row.redirectUris;
      if (grantTypes.includes('authorization_code') && !redirectUris.length) {
        throw new AppError('invalid_request', 'authorization_code needs at least one redirect URI');
      }
      const roleIds = input.roles ? await resolveRoleIds(r, input.roles) : undefined;
      const defaultResourceId =
        input.defaultResource === undefined ? undefined : input.defaultResource === null ? null : await resourceId(input.defaultResource);
      const audit = { type: 'client.updated', target: clientId, data: { changed: Object.keys(input) }, invalidates: true };
      const revoked = await change(actor, audit, async (t) => {
        const current = await locked(t, clientId, actor, 'client.update', input.roles);
        await t.clients.update(
          row.id,
          {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.grantTypes ? { grantTypes } : {}),
            ...(input.redirectUris ? { redirectUris } : {}),
            ...(input.postLogoutRedirectUris ? { postLogoutRedirectUris: input.postLogoutRedirectUris } : {}),
            ...(defaultResourceId !== undefined ? { defaultResourceId } : {}),
            ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
            ...(input.refreshTokenAbsoluteTtl !== undefined ? { refreshTokenAbsoluteTtl: input.refreshTokenAbsoluteTtl } : {}),
            ...(input.refreshTokenIdleTtl !== undefined ? { refreshTokenIdleTtl: input.refreshTokenIdleTtl } : {}),
            ...(input.rateLimitPerHour !== undefined ? { rateLimitPerHour: input.rateLimitPerHour } : {}),
          },
          roleIds,
        );
        const disables = input.disabled === true && !current.disabled;
        return disables ? await endEverything(t, clientId) : undefined;
      });
      if (revoked) await deps.revocationMirror.record(tenant.id, [revoked]);
      return this.get(clientId);
    },
    /** a new secret, returned once; the previous one keeps working for the grace period */
    async rotateSecret(clientId: string, actor: Actor = SYSTEM_ACTOR): Promise<{ clientSecret: string; previousSecretExpiresAt: string }> {
      const clientSecret = randomSecret(32);
      const graceUntil = new Date(Date.now() + deps.clientSecretGraceSeconds * 1000);
      await change(actor, { type: 'client.secret_rotated', target: clientId, invalidates: true }, async (t) => {
        const row = await locked(t, clientId, actor, 'client.rotate_secret');
        if (row.tokenEndpointAuthMethod === 'none') throw new AppError('conflict', 'a public client has no secret');
        await t.clients.addSecret(row.id, deps.secretBox.keyedHash(clientSecret), graceUntil);
      });
      return { clientSecret, previousSecretExpiresAt: graceUntil.toISOString() };
    },
    async delete(clientId: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      const revoked = await change(actor, { type: 'client.deleted', target: clientId, invalidates: true }, async (t) => {
        const row = await locked(t, clientId, actor, 'client.delete');
        if (row.builtIn || row.clientId === ADMIN_CLI_CLIENT) throw new AppError('conflict', 'a built-in client cannot be deleted');
        const entry = await endEverything(t, clientId);
        await t.clients.delete(row.id);
        return entry;
      });
      await deps.revocationMirror.record(tenant.id, [revoked]);
    },
    async create(input: CreateClientInput, actor: Actor = SYSTEM_ACTOR): Promise<CreatedClient> {
      authorize(actor, { operation: 'client.create', tenant, assigns: input.roles ?? [] });
      const method = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
      const grantTypes = [...new Set(input.grantTypes)];
      if (!grantTypes.length) throw new AppError('invalid_request', 'grantTypes must not be empty');
      if (method === 'none' && grantTypes.includes('client_credentials')) {
        throw new AppError('invalid_request', 'a public client (tokenEndpointAuthMethod "none") cannot use client_credentials');
      }
      const redirectUris = input.redirectUris ?? [];
      if (grantTypes.includes('authorization_code') && !redirectUris.length) {
        throw new AppError('invalid_request', 'authorization_code needs at least one redirect URI');
      }
      checkRedirectUris(redirectUris);
      checkRedirectUris(input.postLogoutRedirectUris ?? []);
      const defaultResourceId = input.defaultResource !== undefined ? await resourceId(input.defaultResource) : null;
      const roleIds = await resolveRoleIds(r, input.roles ?? []);
      const clientId = input.clientId ?? randomBytes(12).toString('base64url');
      if (VIRTUAL_CLIENTS.includes(clientId)) throw new AppError('conflict', `client id "${clientId}" is reserved`);
      const clientSecret = method === 'none' ? undefined : randomSecret(32);
      const audit = { type: 'client.created', target: clientId, invalidates: true, conflict: `client "${clientId}" already exists` };
      await change(actor, audit, (t) =>
        t.clients.create({
          clientId,
          name: input.name,
          grantTypes,
          redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
          tokenEndpointAuthMethod: method,
          defaultResourceId,
          firstParty: input.firstParty ?? false,
          rateLimitPerHour: input.rateLimitPerHour ?? null,
          roleIds,
          secretHash: clientSecret ? deps.secretBox.keyedHash(clientSecret) : null,
        }),
      );
      return clientSecret ? { clientId, clientSecret } : { clientId };
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
