/**
 * createVerifier: RFC 9068 access-token validation against the issuer's published keys.
 *
 * jose does the signature and the registered-claim checks; this module adds what it leaves to the
 * application (issuer-scoped key discovery and caching, `typ`, `crit`, embedded keys, RFC 9068
 * required claims, introspection) without re-parsing on the hot path: the header checks run inside
 * jose's key-resolution callback, on the header jose already parsed.
 */
import { base64url, jwtVerify, type CryptoKey, type FlattenedJWSInput, type JWTHeaderParameters, type JWTVerifyOptions } from 'jose';
import { createMetadataSource, type MetadataSource } from './discovery.ts';
import { VerifierError } from './errors.ts';
import { checkHeader } from './header.ts';
import { createHttpClient } from './http.ts';
import { createIntrospector, type Introspector } from './introspection.ts';
import { createKeyStore, type KeyStore } from './jwks.ts';
import { toVerifierError } from './map-error.ts';
import { normalizeOptions } from './options.ts';
import type { Verifier, VerifierOptions, VerifyResult } from './types.ts';

/** longest token accepted; anything longer is refused before parsing */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** most distinct protected-header segments remembered (an issuer uses one per key) */
const MAX_KNOWN_HEADERS = 64;
const utf8 = new TextDecoder();

interface IssuerContext {
  readonly metadata: MetadataSource;
  readonly keys: KeyStore;
}

/** the (unverified) `iss` of a payload segment; only used to pick which issuer's keys to try */
function unverifiedIssuer(payloadSegment: string | Uint8Array): string | undefined {
  try {
    const bytes = typeof payloadSegment === 'string' ? base64url.decode(payloadSegment) : payloadSegment;
    const iss = (JSON.parse(utf8.decode(bytes)) as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a verifier for access tokens of one or more Tessera issuers (tenants).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://id.example.org/t/health-a', audience: 'https://epi.example.org/api' });
 * const { payload } = await verifier.verify(token); // throws VerifierError (err.code) when invalid
 * requireScopes(payload, 'simulate:run');
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = normalizeOptions(options);
  const http = createHttpClient(config.fetch, config.httpTimeoutMs);
  const algorithmSet = new Set(config.algorithms);
  const contexts = new Map<string, IssuerContext>();
  for (const issuer of config.issuers) {
    const metadata = createMetadataSource(issuer, http);
    const keys = createKeyStore({ metadata, http, algorithms: algorithmSet, cooldownMs: config.cooldownMs, maxAgeMs: config.maxAgeMs });
    contexts.set(issuer, { metadata, keys });
  }
  const only = config.issuers.length === 1 ? contexts.get(config.issuers[0] as string) : undefined;
  const introspector: Introspector | undefined = options.introspection ? createIntrospector(options.introspection, http) : undefined;

  const joseOptions: JWTVerifyOptions = {
    issuer: only ? (config.issuers[0] as string) : [...config.issuers],
    audience: config.audience,
    algorithms: config.algorithms,
    clockTolerance: config.clockToleranceSec,
    requiredClaims: config.requiredClaims,
  };

  function contextOf(payloadSegment: string | Uint8Array): IssuerContext {
    const iss = unverifiedIssuer(payloadSegment);
    const ctx = iss === undefined ? undefined : contexts.get(iss);
    if (!ctx) throw new VerifierError('ERR_ISSUER', 'the token is not from an accepted issuer', { claim: 'iss' });
    return ctx;
  }

  async function slowKey(ctx: IssuerContext, kid: string, alg: string, jws: FlattenedJWSInput): Promise<CryptoKey> {
    // before any fetch: a token of a foreign issuer must never trigger a JWKS request
    if (only) contextOf(jws.payload);
    return ctx.keys.resolve(kid, alg);
  }

  // jose calls this with the header it parsed, after its alg-allowlist and crit checks
  function getKey(header: JWTHeaderParameters, jws: FlattenedJWSInput): CryptoKey | Promise<CryptoKey> {
    const kid = checkHeader(header);
    // the issuer is chosen by the unverified iss; jose then checks iss against the same payload
    // bytes, so the keys used always belong to the issuer the verified token names
    const ctx = only ?? contextOf(jws.payload);
    return ctx.keys.get(kid, header.alg) ?? slowKey(ctx, kid, header.alg, jws);
  }

  // Fast path (one issuer): an issuer signs every token of a key with the same protected-header
  // bytes. Once a header segment has passed checkHeader and produced a verified token, its kid and
  // alg are remembered, so later tokens with the very same segment skip the key-resolution callback
  // (measured ~3% of a verification). Only segments of successfully verified tokens are stored, so
  // an attacker cannot fill this map; the key itself is still looked up in the key store each time.
  const knownHeaders = new Map<string, { kid: string; alg: string }>();

  function fastKey(token: string): CryptoKey | undefined {
    if (!only) return undefined;
    const known = knownHeaders.get(token.slice(0, token.indexOf('.')));
    return known && only.keys.get(known.kid, known.alg);
  }

  function remember(token: string, header: JWTHeaderParameters): void {
    if (!only || typeof header.kid !== 'string') return;
    const segment = token.slice(0, token.indexOf('.'));
    if (knownHeaders.has(segment)) return;
    if (knownHeaders.size >= MAX_KNOWN_HEADERS) knownHeaders.clear();
    knownHeaders.set(segment, { kid: header.kid, alg: header.alg });
  }

  async function verify(token: string): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new VerifierError('ERR_MALFORMED', 'the token is malformed');
    }
    let result: VerifyResult;
    const key = fastKey(token);
    try {
      result = (await jwtVerify(token, key ?? getKey, joseOptions)) as unknown as VerifyResult;
    } catch (err) {
      throw toVerifierError(err, token);
    }
    if (key === undefined) remember(token, result.protectedHeader);
    const { payload } = result;
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.client_id !== 'string') {
      throw new VerifierError('ERR_MALFORMED', 'the "sub", "jti" and "client_id" claims must be strings');
    }
    if (introspector) {
      const ctx = contexts.get(result.payload.iss);
      if (!ctx) throw new VerifierError('ERR_ISSUER', 'the token is not from an accepted issuer', { claim: 'iss' });
      await introspector.check(async () => (await ctx.metadata.get()).introspection_endpoint, token, result.payload);
    }
    return result;
  }

  return { verify, issuers: config.issuers };
}
