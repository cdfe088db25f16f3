/**
 * The admin API is a resource server like any other: it accepts Bearer access tokens issued by
 * Tessera for the audience `${PUBLIC_URL}/admin`, verified with the issuing tenant's own keys.
 * Roles are re-read from the database on every call (a disabled admin or a removed role takes
 * effect at once, not when the token expires).
 *   platform-admin from `system` → every tenant;  tenant-admin from T → T only;  else 403.
 */
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { Repositories } from '../repositories/index.ts';
import { PLATFORM_ADMIN_ROLE, SYSTEM_TENANT, TENANT_ADMIN_ROLE, adminAudience, type Actor } from '../services/deps.ts';
import type { TenantPool } from '../tenants/pool.ts';

export interface Principal {
  /** slug of the tenant that issued the token */
  tenant: string;
  /** `user:<id>` or `client:<client_id>` */
  subject: string;
  platformAdmin: boolean;
  tenantAdmin: boolean;
}

export interface AuthDeps {
  publicUrl: string;
  pool: TenantPool;
  repos: Repositories;
}

const invalid = (detail: string) => new AppError('unauthorized', detail, { invalidToken: true });

export function createAuthenticator(deps: AuthDeps) {
  const audience = adminAudience(deps.publicUrl);
  const issuerPrefix = `${deps.publicUrl}/t/`;

  return async function authenticate(ctx: Context): Promise<Principal> {
    const header = ctx.get('authorization');
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!m) throw new AppError('unauthorized', 'a Bearer access token for the admin API is required');
    const token = m[1]!;
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw invalid('the access token is malformed');
    }
    if (typeof iss !== 'string' || !iss.startsWith(issuerPrefix)) throw invalid('the access token was not issued by this server');
    const tenant = await deps.pool.get(iss.slice(issuerPrefix.length));
    if (!tenant) throw invalid('the access token was not issued by this server');
    let payload;
    try {
      payload = await tenant.verifyAccessToken(token, audience);
    } catch {
      throw invalid('the access token is invalid or expired');
    }
    if (await tenant.isRevoked(payload.jti, typeof payload.gid === 'string' ? payload.gid : undefined)) {
      throw invalid('the access token has been revoked');
    }
    const repos = deps.repos.forTenant(tenant.model.id);
    const sub = String(payload.sub ?? '');
    let roles: string[];
    let subject: string;
    if (payload.client_id === sub) {
      const client = await repos.clients.findByClientId(sub);
      if (!client || client.disabled) throw invalid('the client of this token no longer exists or is disabled');
      roles = client.roles;
      subject = `client:${sub}`;
    } else {
      const user = await repos.users.findById(sub);
      if (!user || user.disabled) throw invalid('the user of this token no longer exists or is disabled');
      roles = user.roles;
      subject = `user:${sub}`;
    }
    const slug = tenant.model.slug;
    return {
      tenant: slug,
      subject,
      platformAdmin: slug === SYSTEM_TENANT && roles.includes(PLATFORM_ADMIN_ROLE),
      tenantAdmin: roles.includes(TENANT_ADMIN_ROLE),
    };
  };
}

/** may `p` administer tenant `slug`? (checked before the tenant is looked up: no existence oracle) */
export function assertMayAdminister(p: Principal, slug: string): void {
  if (p.platformAdmin) return;
  if (p.tenantAdmin && p.tenant === slug) return;
  throw new AppError('forbidden', 'this token may not administer that tenant');
}

export function assertPlatformAdmin(p: Principal): void {
  if (!p.platformAdmin) throw new AppError('forbidden', 'only a platform admin may do this');
}

export const actorOf = (p: Principal, requestId: string | undefined): Actor => ({
  actor: `${p.subject}@${p.tenant}`,
  requestId: requestId ?? null,
  platformAdmin: p.platformAdmin,
});
