/**
 * Password hashing with argon2id (parameters from config, OWASP minimum by default). Verification
 * of an unknown user runs against a dummy hash with the same parameters, so response time does
 * not reveal whether a username exists.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { WorkLimiter } from './work-limiter.ts';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** true when `password` matches; `hash` undefined runs a dummy verification and returns false */
  verify(hash: string | undefined, password: string): Promise<boolean>;
  /** true when the stored hash was made with other parameters (rehash after a successful login) */
  needsRehash(hash: string): boolean;
}

/** every argon2 call goes through `limiter` (when given): it may throw OverloadedError */
export function createPasswordHasher(params: Argon2Params, limiter?: WorkLimiter): PasswordHasher {
  const options = { type: argon2.argon2id, ...params } as const;
  const bounded = <T>(fn: () => Promise<T>) => (limiter ? limiter.run(fn) : fn());
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= argon2.hash(randomBytes(16).toString('hex'), options));
  return {
    hash: (password) => bounded(() => argon2.hash(password, options)),
    async verify(hash, password) {
      const target = hash ?? (await dummyHash());
      const ok = await bounded(() => argon2.verify(target, password).catch(() => false));
      return hash !== undefined && ok;
    },
    needsRehash: (hash) => argon2.needsRehash(hash, params),
  };
}
