/**
 * Public types of `tessera/verifier`: options, the verified result and the claims of an
 * RFC 9068 access token as Tessera issues it.
 */
import type { JWTHeaderParameters, JWTPayload } from 'jose';

/** Signature algorithms the verifier can accept. `none` and HMAC (`HS*`) are impossible by type and at run time. */
export type AllowedAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA' | 'Ed25519';

/** Credentials of a confidential client of the issuer, used at its introspection endpoint. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Revocation awareness through RFC 7662 introspection (after local verification succeeds). */
export interface IntrospectionOptions extends ClientCredentials {
  /** how long an introspection answer is reused, in seconds (never beyond the token's `exp`); default 10 */
  cacheTtlSec?: number;
  /** per-issuer credentials when several issuers are configured (each tenant has its own clients) */
  credentials?: Readonly<Record<string, ClientCredentials>>;
  /** most answers kept in the cache; default 10 000 */
  maxCacheEntries?: number;
}

/** Options of {@link createVerifier}. Exactly one of `issuer` / `issuers` is required. */
export interface VerifierOptions {
  /** the one issuer whose tokens are accepted, e.g. `https://id.example.org/t/health-a` */
  issuer?: string;
  /** several issuers (tenants); a token is checked against the keys of the issuer named by its `iss` */
  issuers?: readonly string[];
  /** the API's identifier (the `resource` tokens are requested for); `aud` must contain it */
  audience: string | readonly string[];
  /** signature algorithm allowlist; default `['ES256', 'RS256', 'EdDSA']` */
  algorithms?: readonly AllowedAlgorithm[];
  /** tolerance for `exp` / `nbf`, in seconds; default 5, at most 300 */
  clockToleranceSec?: number;
  /** claims that must be present in addition to RFC 9068's `iss sub aud exp iat jti client_id` */
  requiredClaims?: readonly string[];
  /** check every (locally valid) token at the issuer's introspection endpoint */
  introspection?: IntrospectionOptions;
  /** least time between two JWKS fetches caused by an unknown `kid`, in seconds; default 30 */
  jwksCooldownSec?: number;
  /** after this many seconds the JWKS is refreshed in the background (cached keys stay usable); default 600 */
  jwksMaxAgeSec?: number;
  /** timeout of each HTTP request to the issuer, in milliseconds; default 5000 */
  httpTimeoutMs?: number;
  /** the fetch implementation (for proxies or tests); default `globalThis.fetch` */
  fetch?: typeof fetch;
}

/** Claims of a Tessera access token (RFC 9068 plus `roles` and `tenant_id`). */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** space-separated scopes */
  scope?: string;
  /** role names of the subject */
  roles?: string[];
  /** the tenant slug */
  tenant_id?: string;
}

/** What {@link Verifier.verify} resolves to. */
export interface VerifyResult {
  payload: AccessTokenClaims;
  protectedHeader: JWTHeaderParameters;
}

/** A configured verifier. Create one per process and reuse it: it holds the key cache. */
export interface Verifier {
  /**
   * Verifies a compact JWT access token. Resolves with its claims and header, or rejects with a
   * {@link VerifierError} whose `code` says why.
   */
  verify(token: string): Promise<VerifyResult>;
  /** the configured issuers */
  readonly issuers: readonly string[];
}
