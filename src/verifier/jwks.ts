/**
 * The key cache of one issuer, keyed by `kid` (and the algorithm a key was imported for).
 *
 * - Keys come only from the `jwks_uri` of the issuer's own metadata; public members only.
 * - Keys are imported once (CryptoKey) and reused; the hot path is two Map lookups.
 * - An unknown `kid` refetches the JWKS at most once per cooldown, with a single request in
 *   flight: a storm of random kids costs one fetch per cooldown, not one per token.
 * - A failed fetch keeps every cached key usable; a successful one replaces the set (so a key
 *   the issuer stops publishing stops verifying).
 * - After `maxAgeMs` the set is refreshed in the background while cached keys keep serving.
 */
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { MetadataSource } from './discovery.ts';
import { VerifierError } from './errors.ts';
import { IssuerHttpError, type HttpClient } from './http.ts';

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

interface Entry {
  /** the public members of the published JWK, plus its `alg` if any */
  readonly jwk: JWK;
  /** imported keys by algorithm */
  readonly keys: Map<string, CryptoKey>;
}

export interface KeyStoreOptions {
  metadata: MetadataSource;
  http: HttpClient;
  algorithms: ReadonlySet<string>;
  cooldownMs: number;
  maxAgeMs: number;
}

export interface KeyStore {
  /** synchronous fast path: an already imported key, or undefined */
  get(kid: string, alg: string): CryptoKey | undefined;
  /** slow path: import, or refetch within the cooldown rules; rejects with a VerifierError */
  resolve(kid: string, alg: string): Promise<CryptoKey>;
  /** number of JWKS fetches started (for diagnostics) */
  readonly fetches: number;
}

function publicJwk(raw: Record<string, unknown>): JWK | undefined {
  if (typeof raw.kty !== 'string' || raw.kty === 'oct') return undefined;
  if (raw.use !== undefined && raw.use !== 'sig') return undefined;
  const jwk: JWK = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = raw[member];
    if (value !== undefined) {
      if (typeof value !== 'string') return undefined;
      jwk[member] = value;
    }
  }
  if (typeof raw.alg === 'string') jwk.alg = raw.alg;
  return jwk;
}

async function importFor(jwk: JWK, alg: string): Promise<CryptoKey> {
  const key = await importJWK({ ...jwk, alg }, alg);
  if (key instanceof Uint8Array) throw new TypeError('symmetric keys are never used');
  return key;
}

async function parseJwks(body: unknown, algorithms: ReadonlySet<string>): Promise<Map<string, Entry>> {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new IssuerHttpError('JWKS has no "keys" array');
  const entries = new Map<string, Entry>();
  for (const raw of keys as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const kid = (raw as { kid?: unknown }).kid;
    if (typeof kid !== 'string' || kid === '' || entries.has(kid)) continue;
    const jwk = publicJwk(raw as Record<string, unknown>);
    if (!jwk) continue;
    const entry: Entry = { jwk, keys: new Map() };
    // import eagerly when the key names its algorithm, so the first token pays nothing
    if (jwk.alg !== undefined && algorithms.has(jwk.alg)) {
      try {
        entry.keys.set(jwk.alg, await importFor(jwk, jwk.alg));
      } catch {
        continue; // an unusable key is as good as an unpublished one
      }
    }
    entries.set(kid, entry);
  }
  return entries;
}

export function createKeyStore(opts: KeyStoreOptions): KeyStore {
  let entries = new Map<string, Entry>();
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastSuccess = Number.NEGATIVE_INFINITY;
  let lastError: unknown;
  let inflight: Promise<void> | undefined;
  let fetches = 0;

  function refresh(): Promise<void> {
    if (inflight) return inflight;
    lastAttempt = Date.now();
    fetches++;
    inflight = (async () => {
      try {
        const meta = await opts.metadata.get();
        entries = await parseJwks(await opts.http.json(meta.jwks_uri), opts.algorithms);
        lastSuccess = Date.now();
        lastError = undefined;
      } catch (err) {
        lastError = err;
        opts.metadata.reset();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  return {
    get(kid, alg) {
      const key = entries.get(kid)?.keys.get(alg);
      if (key !== undefined && inflight === undefined && Date.now() - lastSuccess > opts.maxAgeMs && Date.now() - lastAttempt >= opts.cooldownMs) {
        void refresh(); // stale-while-revalidate; never rejects
      }
      return key;
    },

    async resolve(kid, alg) {
      let entry = entries.get(kid);
      if (entry === undefined) {
        if (inflight) await inflight;
        else if (Date.now() - lastAttempt >= opts.cooldownMs) await refresh();
        entry = entries.get(kid);
        if (entry === undefined) {
          if (lastError !== undefined) {
            throw new VerifierError('ERR_JWKS_UNAVAILABLE', "the issuer's keys are unavailable", { cause: lastError });
          }
          throw new VerifierError('ERR_KID_UNKNOWN', 'no key of the issuer has this "kid"');
        }
      }
      const cached = entry.keys.get(alg);
      if (cached !== undefined) return cached;
      if (entry.jwk.alg !== undefined && entry.jwk.alg !== alg) {
        throw new VerifierError('ERR_ALG', 'the key named by "kid" is not for this "alg"');
      }
      let key: CryptoKey;
      try {
        key = await importFor(entry.jwk, alg);
      } catch (cause) {
        throw new VerifierError('ERR_ALG', 'the key named by "kid" cannot be used with this "alg"', { cause });
      }
      entry.keys.set(alg, key);
      return key;
    },

    get fetches() {
      return fetches;
    },
  };
}
