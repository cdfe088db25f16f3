/**
 * Symmetric primitives keyed by KEY_ENCRYPTION_KEY. Sub-keys are derived with HKDF so the
 * key that encrypts private JWKs never doubles as the key that hashes client secrets.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SecretBox {
  /** AES-256-GCM; output `v1.<iv>.<ciphertext>.<tag>` (base64url), `aad` binds it to its row */
  encrypt(plaintext: string, aad: string): string;
  decrypt(sealed: string, aad: string): string;
  /** keyed hash (HMAC-SHA-256) for high-entropy secrets such as client secrets */
  keyedHash(secret: string): string;
  /**
   * constant-time check of `secret` against stored keyed hashes: one HMAC whatever their number
   * (none at all still costs the HMAC, so an unknown client id takes the same time)
   */
  matchesAnyKeyedHash(secret: string, storedHashes: readonly string[]): boolean;
  /**
   * a stable, keyed stand-in for a value that must be recognisable in the audit trail but not
   * readable there (a typed username that is no user may be a password): 22 characters of HMAC
   */
  pseudonym(value: string): string;
}

function subKey(kek: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), `tessera/${info}`, 32));
}

export function createSecretBox(kek: Buffer): SecretBox {
  if (kek.length !== 32) throw new Error('key encryption key must be 32 bytes');
  const encKey = subKey(kek, 'private-key-encryption');
  const macKey = createSecretKey(subKey(kek, 'client-secret-hash'));
  const keyedHash = (secret: string) => createHmac('sha256', macKey).update(secret, 'utf8').digest('base64url');
  const pseudonymKey = createSecretKey(subKey(kek, 'audit-pseudonym'));
  return {
    encrypt(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    decrypt(sealed, aad) {
      const [version, iv, ct, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || !ct || !tag) throw new Error('unrecognised encrypted value');
      const decipher = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
    keyedHash,
    pseudonym: (value) => createHmac('sha256', pseudonymKey).update(value, 'utf8').digest('base64url').slice(0, 22),
    matchesAnyKeyedHash(secret, storedHashes) {
      const presented = Buffer.from(keyedHash(secret), 'utf8');
      let ok = false;
      // no early exit: every stored hash is compared
      for (const stored of storedHashes) {
        const b = Buffer.from(stored, 'utf8');
        if (b.length === presented.length && timingSafeEqual(presented, b)) ok = true;
      }
      return ok;
    },
  };
}

/** digest used as the stored id of token-like values (refresh tokens, codes): never the value */
/** constant-time equality of two strings (their lengths are not secret) */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** a random, URL-safe, high-entropy secret */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
