/** Validation and defaults for {@link VerifierOptions}; a bad option throws a TypeError at start-up. */
import type { AllowedAlgorithm, VerifierOptions } from './types.ts';

export const DEFAULT_ALGORITHMS: readonly AllowedAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];
const SUPPORTED = new Set<string>(['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519']);
/** RFC 9068 §2.2 */
export const RFC9068_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as const;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface NormalizedOptions {
  issuers: readonly string[];
  audience: string | string[];
  algorithms: string[];
  clockToleranceSec: number;
  requiredClaims: string[];
  cooldownMs: number;
  maxAgeMs: number;
  httpTimeoutMs: number;
  fetch: typeof fetch;
}

function checkIssuer(issuer: unknown): string {
  if (typeof issuer !== 'string') throw new TypeError('tessera/verifier: every issuer must be a string');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`tessera/verifier: issuer ${JSON.stringify(issuer)} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new TypeError(`tessera/verifier: issuer ${issuer} must use https (http only on localhost)`);
  }
  if (url.search || url.hash) throw new TypeError(`tessera/verifier: issuer ${issuer} must not have a query or fragment`);
  return issuer;
}

function seconds(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new TypeError(`tessera/verifier: ${name} must be a number between 0 and ${max}`);
  }
  return value;
}

export function normalizeOptions(options: VerifierOptions): NormalizedOptions {
  const list = options.issuers ?? (options.issuer === undefined ? [] : [options.issuer]);
  if (options.issuer !== undefined && options.issuers !== undefined) {
    throw new TypeError('tessera/verifier: give either issuer or issuers, not both');
  }
  if (list.length === 0) throw new TypeError('tessera/verifier: issuer (or issuers) is required');
  const issuers = [...new Set(list.map(checkIssuer))];

  const audience = typeof options.audience === 'string' ? options.audience : [...(options.audience ?? [])];
  if (audience.length === 0 || (Array.isArray(audience) && audience.some((a) => typeof a !== 'string' || a === ''))) {
    throw new TypeError('tessera/verifier: audience is required');
  }

  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  if (algorithms.length === 0) throw new TypeError('tessera/verifier: algorithms must not be empty');
  for (const alg of algorithms) {
    if (!SUPPORTED.has(alg)) throw new TypeError(`tessera/verifier: algorithm ${String(alg)} is not allowed (never "none" or HMAC)`);
  }

  return {
    issuers,
    audience,
    algorithms,
    clockToleranceSec: seconds('clockToleranceSec', options.clockToleranceSec, 5, 300),
    requiredClaims: [...new Set([...RFC9068_CLAIMS, ...(options.requiredClaims ?? [])])],
    cooldownMs: seconds('jwksCooldownSec', options.jwksCooldownSec, 30, 86_400) * 1000,
    maxAgeMs: seconds('jwksMaxAgeSec', options.jwksMaxAgeSec, 600, 86_400 * 7) * 1000,
    httpTimeoutMs: seconds('httpTimeoutMs', options.httpTimeoutMs, 5000, 120_000),
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
  };
}
