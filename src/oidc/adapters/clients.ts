/**
 * The read-only Client adapter and the tenant's client directory. Clients live in SQL (created by
 * the services); oidc-provider sees them as metadata. The secret it is given is a placeholder:
 * secrets are stored as keyed hashes, and createProvider replaces the provider's clear-text
 * comparison with `verifySecret` (constant-time, any secret still inside its rotation grace).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Adapter, ClientMetadata } from 'oidc-provider';
import { ACCOUNT_CLIENT, CONSOLE_CLIENT } from '../../contract.ts';
import type { ClientRepository, ClientRow } from '../../repositories/clients.ts';
import type { SecretBox } from '../../security/crypto.ts';
import type { TenantModel } from '../model.ts';

export interface ClientDirectory {
  get(clientId: string): Promise<ClientRow | undefined>;
  /** the cached row, without I/O (for oidc-provider's synchronous TTL callbacks) */
  peek(clientId: string): ClientRow | undefined;
  /** the audience of the client's default resource, if it has one */
  defaultResource(clientId: string): Promise<string | undefined>;
  verifySecret(clientId: string, secret: string): Promise<boolean>;
  adapter(supportedGrantTypes: ReadonlySet<string>): Adapter;
}

/** client ids are generated (base64url) or built-in names; nothing else can name a client */
const VALID_CLIENT_ID = /^[\x21-\x7e]{1,200}$/;

/** never compared: only there because oidc-provider's schema insists on a secret */
const SECRET_PLACEHOLDER = 'stored-as-keyed-hash';

export function createClientDirectory(repo: ClientRepository, model: TenantModel, secretBox: SecretBox): ClientDirectory {
  // the directory dies with the tenant (rebuilt on every change), so positive entries need no TTL;
  // unknown ids are remembered briefly so a flood of random ids does not become a flood of queries
  const cache = new LRUCache<string, { row: ClientRow | undefined }>({ max: 10_000, ttl: 0 });
  // the account page and the console sign in through the tenant's own login like any first-party app
  const virtualClient = (clientId: string, name: string, page: string): ClientRow => ({
    id: clientId,
    clientId,
    name,
    grantTypes: ['authorization_code'],
    redirectUris: [`${model.issuer}/${page}/callback`],
    postLogoutRedirectUris: [],
    tokenEndpointAuthMethod: 'none',
    defaultResourceId: null,
    firstParty: true,
    builtIn: true,
    disabled: false,
    refreshTokenAbsoluteTtl: null,
    refreshTokenIdleTtl: null,
    rateLimitPerHour: null,
    roles: [],
    secrets: [],
  });
  const virtual = new Map([
    [ACCOUNT_CLIENT, virtualClient(ACCOUNT_CLIENT, 'Your account', 'account')],
    [CONSOLE_CLIENT, virtualClient(CONSOLE_CLIENT, 'Admin console', 'console')],
  ]);
  const get = async (clientId: string) => {
    // no client has such an id: answered without a query (and never a database error)
    if (typeof clientId !== 'string' || !VALID_CLIENT_ID.test(clientId)) return undefined;
    const builtIn = virtual.get(clientId);
    if (builtIn) return builtIn;
    const hit = cache.get(clientId);
    if (hit) return hit.row;
    const row = (await repo.findByClientId(clientId)) ?? undefined;
    cache.set(clientId, { row }, row ? {} : { ttl: 30_000 });
    return row;
  };

  // rows are replaced whenever a client or its secrets change (the tenant is rebuilt), so what
  // is remembered for a row is never stale; it holds a digest of a verified secret, never the secret
  const verified = new WeakMap<ClientRow, { digest: Buffer; until: number }>();

  const toMetadata = (row: ClientRow, supported: ReadonlySet<string>): ClientMetadata => {
    const grantTypes = row.grantTypes.filter((g) => supported.has(g));
    const code = grantTypes.includes('authorization_code');
    return {
      client_id: row.clientId,
      client_name: row.name,
      grant_types: grantTypes,
      response_types: code ? ['code'] : [],
      redirect_uris: code ? row.redirectUris : [],
      post_logout_redirect_uris: row.postLogoutRedirectUris,
      token_endpoint_auth_method: row.tokenEndpointAuthMethod,
      ...(row.tokenEndpointAuthMethod === 'none' ? {} : { client_secret: SECRET_PLACEHOLDER }),
    };
  };

  return {
    get,
    peek: (clientId) => virtual.get(clientId) ?? cache.peek(clientId)?.row,
    async defaultResource(clientId) {
      const id = (await get(clientId))?.defaultResourceId;
      return id ? model.resourcesById.get(id)?.audience : undefined;
    },
    async verifySecret(clientId, secret) {
      if (typeof secret !== 'string') return false;
      const row = await get(clientId);
      const now = Date.now();
      // a machine client presents the same secret on every request: once it verified, its
      // SHA-256 is remembered for this row, and a repeat costs one SHA-256 instead of an HMAC
      const presented = hash('sha256', secret, 'buffer');
      const known = row ? verified.get(row) : undefined;
      if (known && known.until > now && timingSafeEqual(known.digest, presented)) return true;
      const live = (row?.secrets ?? []).filter((s) => !s.expiresAt || s.expiresAt.getTime() > now);
      const ok =
        secretBox.matchesAnyKeyedHash(
          secret,
          live.map((s) => s.hash),
        ) && row !== undefined;
      if (ok) {
        // valid until the first live secret's grace ends (it may be the one presented)
        const until = Math.min(...live.map((s) => s.expiresAt?.getTime() ?? Infinity));
        verified.set(row, { digest: presented, until });
      }
      return ok;
    },
    adapter(supported) {
      const readOnly = async () => {
        throw new Error('clients are managed through the Tessera admin API');
      };
      return {
        async find(id: string) {
          const row = await get(id);
          return row && !row.disabled ? toMetadata(row, supported) : undefined;
        },
        upsert: readOnly,
        consume: readOnly,
        destroy: readOnly,
        revokeByGrantId: readOnly,
        findByUid: async () => undefined,
        findByUserCode: async () => undefined,
      };
    },
  };
}
