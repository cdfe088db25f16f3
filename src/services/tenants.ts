/**
 * Tenants and their built-ins (CONTRACT §3): every tenant gets the admin API resource, the
 * `tenant-admin` role (and `platform-admin` in `system`), the public `admin-cli` client and an
 * active signing key, in the same transaction as the tenant row.
 */
import {
  ACCESS_TOKEN_TTL,
  ADMIN_CLI_CLIENT,
  ADMIN_SCOPE,
  PLATFORM_ADMIN_ROLE,
  SLUG_PATTERN,
  SLUG_RULE,
  SYSTEM_ACTOR,
  SYSTEM_TENANT,
  TENANT_ADMIN_ROLE,
  adminAudience,
  issuerFor,
  type Actor,
  MFA_REQUIRE,
  type MfaPolicy,
  type MfaRequire,
} from '../contract.ts';
import { AppError } from '../errors.ts';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { TenantRow } from '../repositories/tenants.ts';
import { transact, type ServiceDeps, type TenantRepos } from './deps.ts';
import { createKey } from './keys.ts';
import { paginate, type PageInput } from './page.ts';
import { authorize } from './policy.ts';
import { assertPasswordAllowed } from '../security/password-policy.ts';
import { usernameProblem } from '../security/usernames.ts';

export interface CreateTenantInput {
  slug: string;
  name: string;
  signingAlg?: SigningAlg;
  admin?: { username: string; password: string };
}

export interface Tenant extends TenantRow {
  issuer: string;
}

export interface UpdateTenantInput {
  name?: string | undefined;
  mfa?: { require: MfaRequire; roles?: string[] | undefined } | undefined;
}

/** the MFA policy of a tenant row (an unknown stored value reads as the strictest: all) */
export function mfaPolicyOf(t: Pick<TenantRow, 'mfaRequire' | 'mfaRoles'>): MfaPolicy {
  const require = (MFA_REQUIRE as readonly string[]).includes(t.mfaRequire) ? (t.mfaRequire as MfaRequire) : 'all';
  return { require, roles: require === 'roles' ? t.mfaRoles : [] };
}

export function createTenantService(deps: ServiceDeps) {
  const { repos, publicUrl } = deps;
  const withIssuer = (t: TenantRow): Tenant => ({ ...t, issuer: issuerFor(publicUrl, t.slug) });

  async function seedBuiltIns(r: TenantRepos, slug: string, alg: SigningAlg) {
    const admin = await r.resources.create({
      audience: adminAudience(publicUrl),
      name: 'Tessera admin API',
      scopes: [ADMIN_SCOPE],
      accessTokenTtl: ACCESS_TOKEN_TTL.default,
      builtIn: true,
    });
    const roleNames = slug === SYSTEM_TENANT ? [TENANT_ADMIN_ROLE, PLATFORM_ADMIN_ROLE] : [TENANT_ADMIN_ROLE];
    for (const name of roleNames) {
      await r.roles.create({
        name,
        builtIn: true,
        description: name === PLATFORM_ADMIN_ROLE ? 'administers every tenant' : 'administers this tenant',
        permissions: [{ resourceId: admin.id, scope: ADMIN_SCOPE }],
      });
    }
    await r.clients.create({
      clientId: ADMIN_CLI_CLIENT,
      name: 'Tessera admin CLI',
      grantTypes: ['password', 'refresh_token'],
      redirectUris: [],
      tokenEndpointAuthMethod: 'none',
      defaultResourceId: admin.id,
      firstParty: true,
      builtIn: true,
      roleIds: [],
      secretHash: null,
    });
    await createKey(r, deps.secretBox, alg, 'active');
    await createKey(r, deps.secretBox, alg, 'next');
  }

  return {
    async create(input: CreateTenantInput, actor: Actor = SYSTEM_ACTOR, opts: { allowReserved?: boolean; adminRoles?: string[] } = {}): Promise<Tenant> {
      authorize(actor, { operation: 'tenant.create' });
      if (!SLUG_PATTERN.test(input.slug)) {
        throw new AppError('invalid_request', SLUG_RULE);
      }
      if (input.slug === SYSTEM_TENANT && !opts.allowReserved) {
        throw new AppError('conflict', `tenant slug "${SYSTEM_TENANT}" is reserved`);
      }
      if (input.admin) {
        const problem = usernameProblem(input.admin.username);
        if (problem) throw new AppError('invalid_request', `the username ${problem}`, { errors: [{ path: 'admin.username', message: problem }] });
        assertPasswordAllowed(input.admin.password, { username: input.admin.username, field: 'admin.password' });
      }
      const alg = input.signingAlg ?? 'ES256';
      // hash outside the transaction: argon2 is slow and the transaction holds locks
      const adminHash = input.admin ? await deps.passwords.hash(input.admin.password) : undefined;
      const created = await transact(
        repos,
        async (tx) => {
          const tenant = await tx.tenants.create({ slug: input.slug, name: input.name, signingAlg: alg });
          const r = tx.forTenant(tenant.id);
          await seedBuiltIns(r, tenant.slug, alg);
          if (input.admin && adminHash) {
            const roles = await r.roles.findByNames(opts.adminRoles ?? [TENANT_ADMIN_ROLE]);
            await r.users.create({ username: input.admin.username, passwordHash: adminHash, roleIds: roles.map((x) => x.id) });
          }
          await r.audit.record({ type: 'tenant.created', actor: actor.actor, target: tenant.slug });
          return withIssuer(tenant);
        },
        { conflict: `tenant "${input.slug}" already exists` },
      );
      deps.events.created(created.slug);
      return created;
    },
    async get(slug: string): Promise<Tenant> {
      const t = await repos.tenants.findBySlug(slug);
      if (!t) throw new AppError('not_found', `tenant "${slug}" not found`);
      return withIssuer(t);
    },
    list: (page: PageInput = {}) => paginate(page, (o) => repos.tenants.page(o), withIssuer),
    /**
     * name and MFA policy. The policy's roles must exist in the tenant (a typo would silently
     * require nothing). Cached providers are rebuilt (version), so the next sign-in applies it.
     */
    async update(slug: string, input: UpdateTenantInput, actor: Actor = SYSTEM_ACTOR): Promise<Tenant> {
      const current = await repos.tenants.findBySlug(slug);
      if (!current) throw new AppError('not_found', `tenant "${slug}" not found`);
      const mfa = input.mfa;
      authorize(actor, {
        operation: 'tenant.update',
        tenant: { id: current.id },
        target: { protectsPlatformAdmins: current.slug === SYSTEM_TENANT && mfa !== undefined },
      });
      if (mfa) {
        const roles = mfa.roles ?? [];
        if (mfa.require === 'roles' && !roles.length) {
          throw new AppError('invalid_request', 'require "roles" needs at least one role', { errors: [{ path: 'mfa.roles', message: 'at least one role' }] });
        }
        if (mfa.require !== 'roles' && roles.length) {
          throw new AppError('invalid_request', 'roles go only with require "roles"', {
            errors: [{ path: 'mfa.roles', message: 'only with require "roles"' }],
          });
        }
        const known = await repos.forTenant(current.id).roles.findByNames(roles);
        const missing = roles.filter((r) => !known.some((k) => k.name === r));
        if (missing.length) {
          throw new AppError('invalid_request', `unknown role(s): ${missing.join(', ')}`, {
            errors: [{ path: 'mfa.roles', message: `unknown: ${missing.join(', ')}` }],
          });
        }
      }
      const data = {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(mfa ? { mfaRequire: mfa.require, mfaRoles: [...new Set(mfa.roles ?? [])] } : {}),
      };
      await transact(repos, async (tx) => {
        await tx.tenants.update(current.id, data);
        const changed = { changed: Object.keys(input), ...(mfa ? { mfa: { require: mfa.require, roles: data.mfaRoles ?? [] } } : {}) };
        await tx.forTenant(current.id).audit.record({ type: 'tenant.updated', actor: actor.actor, target: slug, data: changed });
        await tx.tenants.bumpVersion(current.id);
      });
      deps.events.changed(current.id);
      return this.get(slug);
    },
  };
}
export type TenantService = ReturnType<typeof createTenantService>;
