/**
 * The facts of the public contract (CONTRACT.md §2–§5) that code on every layer needs, each in one
 * place: built-in names, the slug rule, the grant types this build serves, the admin audience and
 * issuer URLs, the bounds of what a caller may configure, and who acts. Nothing here imports
 * anything of Tessera's: every layer may depend on it.
 */

/** the platform tenant: its `platform-admin`s administer every tenant */
export const SYSTEM_TENANT = 'system';
export const TENANT_ADMIN_ROLE = 'tenant-admin';
export const PLATFORM_ADMIN_ROLE = 'platform-admin';
/** every tenant's built-in public client for the CLI (password + refresh_token) */
export const ADMIN_CLI_CLIENT = 'admin-cli';
/** the account page's built-in client (every tenant has it; it has no row: oidc/adapters/clients.ts) */
export const ACCOUNT_CLIENT = 'tessera-account';
/** the admin console's built-in client (every tenant has it; no row either) */
export const CONSOLE_CLIENT = 'tessera-console';
/** client ids of built-in clients without a row: nobody can create a client with one */
export const VIRTUAL_CLIENTS: readonly string[] = [ACCOUNT_CLIENT, CONSOLE_CLIENT];
/** the scope the admin API requires */
export const ADMIN_SCOPE = 'admin';

/** a tenant's slug: immutable, part of its issuer URL */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const SLUG_RULE = `slug must match ${SLUG_PATTERN.source}`;

/** the grant types this build serves; a client's other grant types are hidden from oidc-provider */
export const GRANT_TYPES = ['client_credentials', 'password', 'refresh_token', 'authorization_code'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const isGrantType = (g: unknown): g is GrantType => (GRANT_TYPES as readonly unknown[]).includes(g);

/** request bodies (admin JSON, OAuth forms) are refused beyond this */
export const BODY_LIMIT = 64 * 1024;

/** an API's access-token lifetime (seconds): the bounds an admin may set, and the default (also ID tokens') */
export const ACCESS_TOKEN_TTL = { min: 30, max: 86_400, default: 3_600 } as const;
/** per-client refresh-token lifetimes an admin may set (seconds) */
export const REFRESH_TOKEN_TTL = { min: 60, max: 365 * 86_400 } as const;
/** an authorization code lives this long (seconds) */
export const AUTHORIZATION_CODE_TTL = 60;

export const adminAudience = (publicUrl: string) => `${publicUrl}/admin`;
export const issuerFor = (publicUrl: string, slug: string) => `${publicUrl}/t/${slug}`;

export type Authority = { kind: 'system' } | { kind: 'platform-admin' } | { kind: 'tenant-admin'; tenant: string; tenantId: string } | { kind: 'none' };

/** who performed a change (audit) and with what authority (policy) */
export interface Actor {
  /** `user:<id>@<tenant>`, `client:<client_id>@<tenant>`, `system` */
  actor: string;
  authority: Authority;
}
/** bootstrap and the operator CLI */
export const SYSTEM_ACTOR: Actor = { actor: 'system', authority: { kind: 'system' } };

/** the tenant MFA policy (CONTRACT §5 `PATCH /admin/tenants/{t}`): who must have a second factor */
export const MFA_REQUIRE = ['none', 'all', 'roles'] as const;
export type MfaRequire = (typeof MFA_REQUIRE)[number];
export interface MfaPolicy {
  require: MfaRequire;
  roles: readonly string[];
}
/** whether `policy` requires a second factor of a user holding `roles` */
export const mfaRequiredFor = (policy: MfaPolicy, roles: readonly string[]) =>
  policy.require === 'all' || (policy.require === 'roles' && roles.some((r) => policy.roles.includes(r)));
