/**
 * What the oidc layer needs of one tenant (tenants/serve.ts builds it) and of the platform:
 * the two arguments of createProvider and of every module it installs.
 */
import type { TenantSettings } from '../config/tenant-settings.ts';
import type { TenantRepos } from '../repositories/index.ts';
import type { LoginGuard } from '../security/login-guard.ts';
import type { PasswordHasher } from '../security/passwords.ts';
import type { TenantServices } from '../services/index.ts';
import type { RevocationList } from '../services/revocation-list.ts';
import type { Store } from '../store/index.ts';
import type { ClientDirectory } from './adapters/clients.ts';
import type { TenantModel } from './model.ts';
import type { AccessTokenVerifier } from './tokens/verify.ts';

export interface OidcTenant {
  readonly model: TenantModel;
  readonly repos: TenantRepos;
  readonly clients: ClientDirectory;
  readonly settings: TenantSettings;
  readonly services: TenantServices;
  readonly revocations: RevocationList;
  readonly verifyAccessToken: AccessTokenVerifier;
}

export interface OidcShared {
  /** keys that sign oidc-provider's cookies (derived from KEY_ENCRYPTION_KEY) */
  readonly cookieKeys: string[];
  readonly passwords: PasswordHasher;
  readonly guard: LoginGuard;
  readonly store: Store;
  /** false while the database does not answer (see db/monitor.ts) */
  databaseUp(): boolean;
  /** an unexpected failure, for the log (never shown to the caller) */
  onServerError(err: Error): void;
  /** the audit trail's keyed stand-in for a typed username that is no user */
  pseudonym(username: string): string;
}

/** the sign-in of the password grant and the login page */
export const signInDepsOf = (tenant: OidcTenant, shared: OidcShared) => ({
  tenantId: tenant.model.id,
  repos: tenant.repos,
  passwords: shared.passwords,
  guard: shared.guard,
  pseudonym: shared.pseudonym,
  onServerError: (err: Error) => shared.onServerError(err),
  verifyCode: tenant.services.mfa.verifyCode,
  mfaPolicy: () => tenant.settings.mfa,
});
