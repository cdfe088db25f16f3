/**
 * Tessera's additions to oidc-provider's error classes (they render as RFC 6749 JSON through its
 * error handler); `retryAfter` becomes a Retry-After header (see oidc/provider.ts).
 */
import { errors } from 'oidc-provider';

export class TooManyRequests extends errors.OIDCProviderError {
  constructor(
    readonly retryAfter: number,
    description = 'too many failed attempts; try again later',
  ) {
    super(429, 'too_many_requests');
    this.error_description = description;
    this.expose = true;
  }
}

export class TemporarilyUnavailable extends errors.OIDCProviderError {
  constructor(
    readonly retryAfter: number,
    description = 'the service is busy; try again shortly',
  ) {
    super(503, 'temporarily_unavailable');
    this.error_description = description;
    this.expose = true;
  }
}

/** a refresh token was presented after it had been rotated: its grant has been revoked */
export class RefreshTokenReuse extends errors.InvalidGrant {
  constructor(readonly grantId: string | undefined) {
    super('refresh token already used');
  }
}
