import { randomBytes } from 'node:crypto';
import { AppError, isUniqueViolation } from '../errors.ts';
import type { TokenEndpointAuthMethod } from '../generated/prisma/enums.ts';
import { randomSecret } from '../security/crypto.ts';
import { SYSTEM_ACTOR, type Actor, type ServiceDeps } from './deps.ts';
import { resolveRoleIds } from './roles.ts';

export const GRANT_TYPES = ['client_credentials', 'password', 'refresh_token', 'authorization_code'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface CreateClientInput {
  name: string;
  grantTypes: GrantType[];
  roles?: string[];
  defaultResource?: string;
  redirectUris?: string[];
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** fixed client_id (built-ins, imports); generated when absent */
  clientId?: string;
  firstParty?: boolean;
}

export interface CreatedClient {
  clientId: string;
  /** returned exactly once */
  clientSecret?: string;
}

export function createClientService(deps: ServiceDeps, tenantId: string) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async create(input: CreateClientInput, actor: Actor = SYSTEM_ACTOR): Promise<CreatedClient> {
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
      for (const uri of redirectUris) {
        const u = URL.parse(uri);
        if (!u || u.hash) throw new AppError('invalid_request', `invalid redirect URI "${uri}"`);
      }
      let defaultResourceId: string | null = null;
      if (input.defaultResource !== undefined) {
        const res = await r.resources.findByAudience(input.defaultResource);
        if (!res) throw new AppError('invalid_request', `unknown resource "${input.defaultResource}"`);
        defaultResourceId = res.id;
      }
      const roleIds = await resolveRoleIds(r, input.roles ?? []);
      const clientId = input.clientId ?? randomBytes(12).toString('base64url');
      const clientSecret = method === 'none' ? undefined : randomSecret(32);
      try {
        await deps.repos.transaction(async (tx) => {
          const t = tx.forTenant(tenantId);
          await t.clients.create({
            clientId,
            name: input.name,
            grantTypes,
            redirectUris,
            tokenEndpointAuthMethod: method,
            defaultResourceId,
            firstParty: input.firstParty ?? false,
            roleIds,
            secretHash: clientSecret ? deps.secretBox.keyedHash(clientSecret) : null,
          });
          await t.audit.record({ type: 'client.created', actor: actor.actor, requestId: actor.requestId ?? null, target: clientId });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `client "${clientId}" already exists`);
        throw err;
      }
      deps.onTenantChanged(tenantId);
      return clientSecret ? { clientId, clientSecret } : { clientId };
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
