/**
 * Errors of `tessera/verifier`. Every failure is a {@link VerifierError} carrying a stable `code`
 * (like jose's `ERR_JWT_EXPIRED`), the HTTP status a resource server should answer with, and the
 * RFC 6750 error code for the `WWW-Authenticate` header. Messages are safe to show to the caller.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type VerifierErrorCode =
  /** no bearer token in the request (RFC 6750 §3.1: answered without an error code) */
  | 'ERR_NO_TOKEN'
  /** not a compact JWS / JWT, or a claim has the wrong type */
  | 'ERR_MALFORMED'
  /** `exp` is in the past (beyond the clock tolerance) */
  | 'ERR_TOKEN_EXPIRED'
  /** `nbf` is in the future (beyond the clock tolerance) */
  | 'ERR_NBF'
  /** `aud` does not contain the configured audience */
  | 'ERR_AUDIENCE'
  /** `iss` is missing or not one of the configured issuers */
  | 'ERR_ISSUER'
  /** header `typ` is not `at+jwt` (RFC 9068) */
  | 'ERR_TYP'
  /** header `alg` is not in the allowlist or does not match the key */
  | 'ERR_ALG'
  /** the signature does not verify with the issuer's key */
  | 'ERR_SIGNATURE'
  /** header `kid` is missing or not published in the issuer's JWKS */
  | 'ERR_KID_UNKNOWN'
  /** the token carries a `crit` header */
  | 'ERR_CRIT'
  /** the token carries an embedded key or key reference (`jwk`, `jku`, `x5u`, `x5c`) */
  | 'ERR_EMBEDDED_KEY'
  /** a required claim is missing */
  | 'ERR_CLAIM_MISSING'
  /** introspection answered `{"active": false}`: revoked (or otherwise no longer valid) */
  | 'ERR_REVOKED'
  /** the token lacks a required scope */
  | 'ERR_INSUFFICIENT_SCOPE'
  /** the token lacks a required role */
  | 'ERR_INSUFFICIENT_ROLE'
  /** the issuer's metadata or JWKS could not be fetched and no cached key applies */
  | 'ERR_JWKS_UNAVAILABLE'
  /** the issuer's introspection endpoint could not be reached or answered an error */
  | 'ERR_INTROSPECTION_UNAVAILABLE';

/** RFC 6750 §3.1 error codes used in `WWW-Authenticate: Bearer error="…"`. */
export type BearerErrorCode = 'invalid_token' | 'insufficient_scope' | 'invalid_request';

interface CodeInfo {
  readonly status: 401 | 403 | 503;
  readonly bearer: BearerErrorCode | undefined;
}

const INFO: Readonly<Record<VerifierErrorCode, CodeInfo>> = {
  ERR_NO_TOKEN: { status: 401, bearer: undefined },
  ERR_MALFORMED: { status: 401, bearer: 'invalid_token' },
  ERR_TOKEN_EXPIRED: { status: 401, bearer: 'invalid_token' },
  ERR_NBF: { status: 401, bearer: 'invalid_token' },
  ERR_AUDIENCE: { status: 401, bearer: 'invalid_token' },
  ERR_ISSUER: { status: 401, bearer: 'invalid_token' },
  ERR_TYP: { status: 401, bearer: 'invalid_token' },
  ERR_ALG: { status: 401, bearer: 'invalid_token' },
  ERR_SIGNATURE: { status: 401, bearer: 'invalid_token' },
  ERR_KID_UNKNOWN: { status: 401, bearer: 'invalid_token' },
  ERR_CRIT: { status: 401, bearer: 'invalid_token' },
  ERR_EMBEDDED_KEY: { status: 401, bearer: 'invalid_token' },
  ERR_CLAIM_MISSING: { status: 401, bearer: 'invalid_token' },
  ERR_REVOKED: { status: 401, bearer: 'invalid_token' },
  ERR_INSUFFICIENT_SCOPE: { status: 403, bearer: 'insufficient_scope' },
  ERR_INSUFFICIENT_ROLE: { status: 403, bearer: 'insufficient_scope' },
  ERR_JWKS_UNAVAILABLE: { status: 503, bearer: undefined },
  ERR_INTROSPECTION_UNAVAILABLE: { status: 503, bearer: undefined },
};

/** The one error class of the verifier. Check `err.code`, never the message. */
export class VerifierError extends Error {
  override readonly name = 'VerifierError';
  /** stable machine-readable code */
  readonly code: VerifierErrorCode;
  /** HTTP status a resource server should answer with: 401, 403 or 503 */
  readonly status: 401 | 403 | 503;
  /** RFC 6750 error for `WWW-Authenticate`, when one applies */
  readonly bearerError: BearerErrorCode | undefined;
  /** the message contains nothing secret and may be sent to the caller */
  readonly expose = true;
  /** the claim at fault, for claim errors */
  readonly claim: string | undefined;
  /** the scopes (or roles) that were required, for 403 errors */
  readonly required: readonly string[] | undefined;

  constructor(code: VerifierErrorCode, message: string, opts: { cause?: unknown; claim?: string; required?: readonly string[] } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    const info = INFO[code];
    this.code = code;
    this.status = info.status;
    this.bearerError = info.bearer;
    this.claim = opts.claim;
    this.required = opts.required;
  }
}

/** true when `err` is a {@link VerifierError} (optionally with the given code) */
export function isVerifierError(err: unknown, code?: VerifierErrorCode): err is VerifierError {
  return err instanceof VerifierError && (code === undefined || err.code === code);
}
