/**
 * Revocation awareness: RFC 7662 introspection of tokens that already verified locally, with a
 * short cache (never past the token's `exp`) and one request in flight per token.
 * Authenticates with client_secret_basic. Fails closed: no answer → ERR_INTROSPECTION_UNAVAILABLE.
 */
import { VerifierError } from './errors.ts';
import type { HttpClient } from './http.ts';
import type { AccessTokenClaims, ClientCredentials, IntrospectionOptions } from './types.ts';

export interface Introspector {
  /** resolves when the issuer says the token is active; rejects with ERR_REVOKED otherwise */
  check(endpoint: () => Promise<string | undefined>, token: string, claims: AccessTokenClaims): Promise<void>;
}

interface Cached {
  active: boolean;
  until: number;
}

function basic({ clientId, clientSecret }: ClientCredentials): string {
  const enc = (s: string) => encodeURIComponent(s); // RFC 6749 §2.3.1: form-encode, then base64
  return `Basic ${btoa(`${enc(clientId)}:${enc(clientSecret)}`)}`;
}

export function createIntrospector(opts: IntrospectionOptions, http: HttpClient): Introspector {
  const ttlMs = (opts.cacheTtlSec ?? 10) * 1000;
  const max = opts.maxCacheEntries ?? 10_000;
  const cache = new Map<string, Cached>();
  const inflight = new Map<string, Promise<boolean>>();
  const authFor = (issuer: string) => basic(opts.credentials?.[issuer] ?? opts);

  async function ask(endpoint: string, issuer: string, token: string): Promise<boolean> {
    let body: unknown;
    try {
      body = await http.json(endpoint, {
        method: 'POST',
        headers: { authorization: authFor(issuer), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch (cause) {
      throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', 'the issuer could not confirm the token', { cause });
    }
    const active = (body as { active?: unknown } | null)?.active;
    if (typeof active !== 'boolean') {
      throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', 'the issuer answered introspection without "active"');
    }
    return active;
  }

  function remember(key: string, active: boolean, exp: number): void {
    if (cache.size >= max) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, { active, until: Math.min(Date.now() + ttlMs, exp * 1000) });
  }

  return {
    async check(endpoint, token, claims) {
      const key = `${claims.iss}\n${claims.jti}`;
      const hit = cache.get(key);
      let active: boolean;
      if (hit !== undefined && hit.until > Date.now()) {
        active = hit.active;
      } else {
        let pending = inflight.get(key);
        if (!pending) {
          pending = (async () => {
            let url: string | undefined;
            try {
              url = await endpoint();
            } catch (cause) {
              throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', 'the issuer metadata is unavailable', { cause });
            }
            if (!url) throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', 'the issuer has no introspection endpoint');
            const result = await ask(url, claims.iss, token);
            remember(key, result, claims.exp);
            return result;
          })().finally(() => inflight.delete(key));
          inflight.set(key, pending);
        }
        active = await pending;
      }
      if (!active) throw new VerifierError('ERR_REVOKED', 'the token is no longer active');
    },
  };
}
