/**
 * Refresh-token lifetimes (README "Refresh tokens"): a sign-in's grant lives the absolute lifetime
 * (REFRESH_TOKEN_ABSOLUTE_TTL, 30 days, or the client's override); each refresh token lives the idle
 * lifetime (REFRESH_TOKEN_IDLE_TTL, 7 days, or the client's override), never beyond the absolute
 * lifetime counted from the first sign-in (`iiat`, carried from token to token on rotation).
 */
export interface RefreshLifetimes {
  /** seconds from the first sign-in */
  absolute: number;
  /** seconds without use */
  idle: number;
}

/** the client's overrides, else the configured defaults */
export function refreshLifetimesOf(
  client: { refreshTokenAbsoluteTtl: number | null; refreshTokenIdleTtl: number | null } | undefined,
  defaults: RefreshLifetimes,
): RefreshLifetimes {
  return {
    absolute: client?.refreshTokenAbsoluteTtl ?? defaults.absolute,
    idle: client?.refreshTokenIdleTtl ?? defaults.idle,
  };
}

/**
 * seconds a refresh token issued at `now` lives: the idle lifetime, cut at the absolute limit
 * (at least 1 s: oidc-provider wants a positive lifetime; the grant, which expires at the absolute
 * limit, refuses the refresh anyway)
 */
export function refreshTokenTtl(lifetimes: RefreshLifetimes, iiat: number | undefined, now: number): number {
  const first = iiat ?? now;
  return Math.max(1, Math.min(lifetimes.idle, first + lifetimes.absolute - now));
}
