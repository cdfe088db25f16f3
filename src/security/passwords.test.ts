/** Password hashing: argon2id with the configured parameters, the dummy verification, rehash detection, load bounding. */
import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './passwords.ts';
import { OverloadedError, createWorkLimiter } from './work-limiter.ts';

const cheap = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

describe('the password hasher', () => {
  const hasher = createPasswordHasher(cheap);

  it('hashes with argon2id and exactly the configured parameters', async () => {
    const hash = await hasher.hash('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=8192,p=1,t=1\$/);
    expect(await hasher.hash('correct horse')).not.toBe(hash); // salted
  });

  it('verifies the right password only', async () => {
    const hash = await hasher.hash('correct horse');
    expect(await hasher.verify(hash, 'correct horse')).toBe(true);
    expect(await hasher.verify(hash, 'correct hors')).toBe(false);
    expect(await hasher.verify(hash, '')).toBe(false);
  });

  it('runs a real verification for an unknown user, and says no', async () => {
    let calls = 0;
    const targets: string[] = [];
    const original = argon2.verify;
    (argon2 as { verify: typeof argon2.verify }).verify = async (...args) => {
      calls++;
      targets.push(args[0]);
      return original(...args);
    };
    try {
      expect(await hasher.verify(undefined, 'anything')).toBe(false);
      expect(calls).toBe(1);
      // against a real hash of the configured cost (the same work as for a known user), made once
      expect(targets[0]).toMatch(/^\$argon2id\$v=19\$m=8192,p=1,t=1\$/);
      expect(await hasher.verify(undefined, 'anything else')).toBe(false);
      expect(targets[1]).toBe(targets[0]);
    } finally {
      (argon2 as { verify: typeof argon2.verify }).verify = original;
    }
  });

  it('answers false, not an error, for a stored value that is no argon2 hash', async () => {
    expect(await hasher.verify('not-a-hash', 'anything')).toBe(false);
  });

  it('needs a rehash exactly when the stored parameters differ from the configured ones', async () => {
    const current = await hasher.hash('x');
    expect(hasher.needsRehash(current)).toBe(false);
    const older = await createPasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 }).hash('x');
    expect(hasher.needsRehash(older)).toBe(true);
    const lessMemory = await argon2.hash('x', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(hasher.needsRehash(lessMemory)).toBe(true);
  });

  it('goes through the work limiter, which refuses beyond its queue', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 1 });
    const bounded = createPasswordHasher(cheap, limiter);
    const results = await Promise.allSettled([bounded.hash('a'), bounded.hash('b'), bounded.hash('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
    // every slot was given back: the same pattern again gives the same answers
    // verifications too
    const hash = await bounded.hash('a');
    const checks = await Promise.allSettled([bounded.verify(hash, 'a'), bounded.verify(hash, 'a'), bounded.verify(hash, 'a')]);
    expect(checks.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });
});
