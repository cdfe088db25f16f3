/**
 * The one typed slice of the configuration a tenant is built with: what its provider, grants and
 * pages need, and nothing else. Today every value is the platform's (environment); a per-tenant
 * setting (the tenant's row) is added here, next to the default it overrides, so the schema, this
 * slice and the code that uses the setting are the only places that change.
 */
import type { MfaPolicy } from '../contract.ts';
import type { Config } from './index.ts';

export interface TenantSettings {
  /** refresh-token lifetimes (seconds): absolute from the first sign-in, idle between uses */
  readonly refreshTokenAbsoluteTtl: number;
  readonly refreshTokenIdleTtl: number;
  /** seconds after a rotation during which the old refresh token is refused without revoking its grant */
  readonly refreshTokenReuseInterval: number;
  /** browser sign-in session lifetime, from the sign-in, and the time a login/consent page may take */
  readonly sessionTtl: number;
  readonly interactionTtl: number;
  /** token requests per hour for the whole tenant (undefined: none) */
  readonly rateLimitPerHour: number | undefined;
  /** sign ES256/EdDSA on the event loop (several workers), see oidc/signing-keys.ts */
  readonly inlineSigning: boolean;
  /** cookies are `Secure` when the public URL is https */
  readonly secureCookies: boolean;
  /** the tenant's own (its row): who must have a second factor */
  readonly mfa: MfaPolicy;
}

/** the platform's part: every tenant starts from it */
export type PlatformSettings = Omit<TenantSettings, 'mfa'>;

/** one tenant's settings: the platform's, with the tenant row's own settings */
export function settingsFor(platform: PlatformSettings, own: { mfa: MfaPolicy }): TenantSettings {
  return Object.freeze({ ...platform, mfa: Object.freeze({ require: own.mfa.require, roles: Object.freeze([...own.mfa.roles]) }) });
}

export function tenantSettings(config: Config, publicUrl: string): PlatformSettings {
  return Object.freeze({
    refreshTokenAbsoluteTtl: config.refreshTokenAbsoluteTtl,
    refreshTokenIdleTtl: config.refreshTokenIdleTtl,
    refreshTokenReuseInterval: config.refreshTokenReuseInterval,
    sessionTtl: config.sessionTtl,
    interactionTtl: config.interactionTtl,
    rateLimitPerHour: config.tenantRateLimitPerHour,
    inlineSigning: config.webConcurrency > 1,
    secureCookies: publicUrl.startsWith('https:'),
  });
}
