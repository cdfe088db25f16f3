/**
 * The ExternalSigningKeys Tessera hands oidc-provider (src/oidc/signing-keys.ts): for every
 * supported algorithm, inline and through the thread pool, the signature verifies with the public
 * key, `keyObject()` is that public key (oidc-provider publishes it), and nothing private leaks.
 */
import { exportJWK, flattenedVerify, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { signingKeys } from '../../src/oidc/signing-keys.ts';

const ALGS = [
  ['ES256', {}],
  ['EdDSA', { crv: 'Ed25519' }],
  ['RS256', { modulusLength: 2048 }],
] as const;

describe.each(ALGS)('signing keys for %s', (alg, options) => {
  it.each([false, true])('sign and verify (inline: %s)', async (inline) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { ...options, extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `k-${alg}`, alg };
    const [key] = signingKeys([jwk], inline);
    expect(key!.kid).toBe(`k-${alg}`);
    expect(key!.alg).toBe(alg);
    const publicJwk = (await key!.keyObject()).export({ format: 'jwk' }) as Record<string, unknown>;
    expect(publicJwk.d).toBeUndefined();
    expect(publicJwk).toMatchObject(await exportJWK(publicKey));
    // a JWS signing input, signed the way oidc-provider does for external keys
    const header = Buffer.from(JSON.stringify({ alg, kid: key!.kid })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url');
    const signature = Buffer.from(await key!.sign(Buffer.from(`${header}.${payload}`))).toString('base64url');
    await expect(flattenedVerify({ protected: header, payload, signature }, publicKey)).resolves.toBeTruthy();
    // RS256 is never signed on the event loop
    if (alg === 'RS256') expect(key!.sign(Buffer.from('x'))).toBeInstanceOf(Promise);
  });
});
