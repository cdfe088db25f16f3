/**
 * Tessera's additions to oidc-provider's error classes (they render as RFC 6749 JSON through its
 * error handler); `retryAfter` becomes a Retry-After header (http/oauth-error.ts, oidc/events.ts).
 */
import { errors } from 'oidc-provider';
import { UNAVAILABLE } from '../http/oauth-error.ts';

/** an error that tells the client when to come back */
class RetryLater extends errors.OIDCProviderError {
  constructor(
    status: number,
    error: string,
    readonly retryAfter: number,
    description: string,
  ) {
    super(status, error);
    this.error_description = description;
    this.expose = true; // shown even with a 5xx status: it is an answer, not a failure
  }
}

export class TooManyRequests extends RetryLater {
  constructor(retryAfter: number, description = 'too many failed attempts; try again later') {
    super(429, 'too_many_requests', retryAfter, description);
  }
}

export class TemporarilyUnavailable extends RetryLater {
  constructor(retryAfter: number, description = 'the service is busy; try again shortly') {
    super(503, UNAVAILABLE.error, retryAfter, description);
  }
}
