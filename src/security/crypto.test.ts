/** The secret box: sealed private keys bound to their row, keyed hashes of client secrets, pseudonyms. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSecretBox, digest, randomSecret, type SecretBox } from './crypto.ts';

// made inside each test (not at import), so that a mutant in createSecretBox is live when it runs
let box: SecretBox;
let other: SecretBox;
beforeEach(() => {
  box = createSecretBox(Buffer.alloc(32, 1));
  other = createSecretBox(Buffer.alloc(32, 2));
});

describe('the secret box', () => {
  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(Buffer.alloc(31))).toThrow('key encryption key must be 32 bytes');
    expect(() => createSecretBox(Buffer.alloc(33))).toThrow('key encryption key must be 32 bytes');
    expect(() => createSecretBox(Buffer.alloc(32))).not.toThrow();
  });

  // Stored rows depend on these derivations (HKDF-SHA-256 sub-keys 'tessera/<purpose>'): a change
  // would make every sealed private key unreadable and every client secret fail after an upgrade.
  it('derives its sub-keys as every existing database expects (fixed vectors)', () => {
    expect(box.keyedHash('client-secret')).toBe('hTvg0DpH8It4RDdKU88w65G02PyguARUL34NW0wKiE8');
    expect(box.pseudonym('ann')).toBe('zBF_60dDyrdfwnZUS3q2qy');
    expect(box.decrypt('v1.GhK-yrMqk0kYOWdd.8hNnEIEEy85eT1u0gY65.Epq4t8G1pAbcFM25EHrtaQ', 'signing-key:t:k')).toBe('private jwk ✓');
  });

  it('seals and opens, bound to the additional data, under this key only', () => {
    const sealed = box.encrypt('private jwk', 'signing-key:t:k');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('private');
    expect(box.encrypt('private jwk', 'signing-key:t:k')).not.toBe(sealed); // a fresh IV each time
    expect(box.decrypt(sealed, 'signing-key:t:k')).toBe('private jwk');
    expect(() => box.decrypt(sealed, 'signing-key:t:other')).toThrow();
    expect(() => other.decrypt(sealed, 'signing-key:t:k')).toThrow();
    const [v, iv, ct, tag] = sealed.split('.');
    expect(() => box.decrypt([v, iv, ct, Buffer.alloc(16).toString('base64url')].join('.'), 'signing-key:t:k')).toThrow();
    expect(() => box.decrypt(['v2', iv, ct, tag].join('.'), 'signing-key:t:k')).toThrow('unrecognised encrypted value');
    expect(() => box.decrypt('v1..x.y', 'a')).toThrow('unrecognised encrypted value');
  });

  it('hashes secrets with a key of its own: equal inputs agree, other keys and inputs do not', () => {
    expect(box.keyedHash('s')).toBe(box.keyedHash('s'));
    expect(box.keyedHash('s')).not.toBe(box.keyedHash('t'));
    expect(box.keyedHash('s')).not.toBe(other.keyedHash('s'));
    expect(box.keyedHash('s')).toMatch(/^[\w-]{43}$/);
  });

  it('matches a secret against any of several stored hashes, and against none', () => {
    const hashes = [box.keyedHash('a'), box.keyedHash('b')];
    expect(box.matchesAnyKeyedHash('a', hashes)).toBe(true);
    expect(box.matchesAnyKeyedHash('b', hashes)).toBe(true);
    expect(box.matchesAnyKeyedHash('c', hashes)).toBe(false);
    expect(box.matchesAnyKeyedHash('a', [])).toBe(false);
    expect(box.matchesAnyKeyedHash('a', ['short', box.keyedHash('b')])).toBe(false);
    expect(box.matchesAnyKeyedHash('b', ['short', box.keyedHash('b')])).toBe(true);
  });

  it('makes short, stable, keyed pseudonyms', () => {
    expect(box.pseudonym('ann')).toBe(box.pseudonym('ann'));
    expect(box.pseudonym('ann')).toHaveLength(22);
    expect(box.pseudonym('ann')).not.toBe(box.pseudonym('anne'));
    expect(box.pseudonym('ann')).not.toBe(other.pseudonym('ann'));
    // not the client-secret hash under another name
    expect(box.keyedHash('ann').startsWith(box.pseudonym('ann'))).toBe(false);
  });

  it('digests and random secrets', () => {
    // SHA-256, base64url
    expect(digest('x')).toBe('LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE');
    expect(digest('x')).not.toBe(digest('y'));
    expect(randomSecret()).toMatch(/^[\w-]{43}$/);
    expect(randomSecret(18)).toMatch(/^[\w-]{24}$/);
    expect(randomSecret()).not.toBe(randomSecret());
  });
});
