/**
 * The admin API is a resource server like any other: it accepts Bearer access tokens issued by
 * Tessera for the audience `${PUBLIC_URL}/admin` **with the scope `admin`**, verified with the
 * issuing tenant's own keys, and not revoked (by jti, grant, or the user's or client's cut-off).
 * Roles are re-read from the database on every call (a disabled admin or a removed role takes
 * effect at once, not when the token expires). What the principal may then do is decided by the
 * policy (services/policy.ts):
 *   platform-admin from `system` → every tenant;  tenant-admin from T → T only;  else 403.
 */
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { ADMIN_SCOPE, PLATFORM_ADMIN_ROLE, SLUG_PATTERN, SYSTEM_TENANT, TENANT_ADMIN_ROLE, adminAudience, type Actor, type Authority } from '../contract.ts';
import { subjectsOf } from '../services/revocation-list.ts';
import type { TenantPool } from '../tenants/pool.ts';

export interface Principal {
  /** slug of the tenant that issued the token */
  tenant: string;
  /** `user:<id>` or `client:<client_id>` */
  subject: string;
  authority: Authority;
}

export interface AuthDeps {
  publicUrl: string;
  pool: TenantPool;
}

const invalid = (detail: string) => new AppError('unauthorized', detail, { invalidToken: true });

export function createAuthenticator(deps: AuthDeps) {
  const audience = adminAudience(deps.publicUrl);
  const issuerPrefix = `${deps.publicUrl}/t/`;

  return async function authenticate(ctx: Context): Promise<Principal> {
    const header = ctx.get('authorization');
    const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/i.exec(header);
    if (!m) throw new AppError('unauthorized', 'a Bearer access token for the admin API is required');
    const token = m[1]!;
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw invalid('the access token is malformed');
    }
    if (typeof iss !== 'string' || !iss.startsWith(issuerPrefix)) throw invalid('the access token was not issued by this server');
    // the slug rule before any lookup: nothing else can name a tenant (and a NUL byte never reaches SQL)
    const slug = iss.slice(issuerPrefix.length);
    if (!SLUG_PATTERN.test(slug)) throw invalid('the access token was not issued by this server');
    const tenant = await deps.pool.get(slug);
    if (!tenant) throw invalid('the access token was not issued by this server');
    let payload: Awaited<ReturnType<typeof tenant.verifyAccessToken>>;
    try {
      payload = await tenant.verifyAccessToken(token, audience);
    } catch {
      throw invalid('the access token is invalid or expired');
    }
    const sub = typeof payload.sub === 'string' ? payload.sub : '';
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const revoked = await tenant.revocations.isRevoked({
      jti: payload.jti,
      grantId: typeof payload.gid === 'string' ? payload.gid : undefined,
      subjects: subjectsOf(sub, clientId),
      iat: payload.iat,
    });
    if (revoked) throw invalid('the access token has been revoked');
    // RFC 6750 §3.1: a valid token without the scope this API requires
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(ADMIN_SCOPE)) {
      throw new AppError('forbidden', `the access token lacks the "${ADMIN_SCOPE}" scope`, { insufficientScope: ADMIN_SCOPE });
    }
    const { repos } = tenant;
    let roles: string[];
    let subject: string;
    if (clientId !== undefined && clientId === sub) {
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
    return { tenant: slug, subject, authority: authorityOf(slug, tenant.model.id, roles) };
  };
}

/** what a principal of tenant `slug` holding `roles` may administer (the admin API and the console) */
export const authorityOf = (slug: string, tenantId: string, roles: readonly string[]): Authority =>
  slug === SYSTEM_TENANT && roles.includes(PLATFORM_ADMIN_ROLE)
    ? { kind: 'platform-admin' }
    : roles.includes(TENANT_ADMIN_ROLE)
      ? { kind: 'tenant-admin', tenant: slug, tenantId }
      : { kind: 'none' };

export const actorOf = (p: Principal): Actor => ({ actor: `${p.subject}@${p.tenant}`, authority: p.authority });
