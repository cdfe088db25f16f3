/**
 * The tenant's private keys as oidc-provider `ExternalSigningKey`s that sign with node:crypto.
 *
 * Given private JWKs, oidc-provider signs through jose and WebCrypto. node:crypto's callback form
 * does the same work in libuv's thread pool with less around it: for ES256 at 16 signatures in
 * flight, 32 µs of CPU per signature instead of 44 µs, and less of it on the event loop (measured
 * in bench/README.md). With several workers, ES256 and EdDSA may instead sign on the event loop
 * (`inline`, below); RS256 (~1 ms) always uses the thread pool.
 * `keyObject()` is the public key: oidc-provider publishes and verifies with it.
 */
import { createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { ExternalSigningKey } from 'oidc-provider';

/** the feature flag oidc-provider 9.13 requires for ExternalSigningKey (an experimental API, version pinned) */
export const EXTERNAL_SIGNING = { enabled: true, ack: 'experimental-01' } as const;

/** node:crypto's digest and options for each JWS algorithm Tessera signs with; `cheap`: ~25-50 µs */
const SIGN_OPTIONS: Record<string, { digest: string | null; key: { dsaEncoding?: 'ieee-p1363' }; cheap: boolean }> = {
  ES256: { digest: 'sha256', key: { dsaEncoding: 'ieee-p1363' }, cheap: true },
  EdDSA: { digest: null, key: {}, cheap: true },
  RS256: { digest: 'sha256', key: {}, cheap: false },
};

class NodeSigningKey extends ExternalSigningKey {
  readonly #public: KeyObject;
  readonly #digest: string | null;
  readonly #signKey: { key: KeyObject; dsaEncoding?: 'ieee-p1363' };
  readonly #inline: boolean;
  readonly #kid: string;
  readonly #alg: string;

  constructor(jwk: JWK, inline: boolean) {
    super();
    if (!jwk.kid || !jwk.alg) throw new Error('a signing key needs kid and alg');
    this.#kid = jwk.kid;
    this.#alg = jwk.alg;
    const options = SIGN_OPTIONS[jwk.alg];
    if (!options) throw new Error(`unsupported signing algorithm ${jwk.alg}`);
    const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    this.#public = createPublicKey(key);
    this.#digest = options.digest;
    this.#signKey = { key, ...options.key };
    this.#inline = inline && options.cheap;
  }

  override get kid(): string {
    return this.#kid;
  }

  override get alg(): string {
    return this.#alg;
  }

  override keyObject(): KeyObject {
    return this.#public;
  }

  override sign(data: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (this.#inline) return sign(this.#digest, data, this.#signKey);
    return new Promise((resolve, reject) => sign(this.#digest, data, this.#signKey, (err, signature) => (err ? reject(err) : resolve(signature))));
  }
}

/**
 * `inline`: sign ES256 and EdDSA on the event loop (~25 µs, no thread hop). Worth it when several
 * workers already keep every core busy (WEB_CONCURRENCY > 1); with one process the thread pool
 * lets a second core share the signing. RS256 always goes to the thread pool.
 */
export function signingKeys(privateJwks: readonly JWK[], inline = false): ExternalSigningKey[] {
  return privateJwks.map((jwk) => new NodeSigningKey(jwk, inline));
}
