/**
 * One-time recovery codes for a user who lost their authenticator. Ten characters of a 31-letter
 * alphabet (about 49.5 bits each) are out of reach of online guessing under the login rate limits,
 * and the alphabet leaves out 0/o, 1/l/i so a code copied from paper is read back right.
 */
import { randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 10;
const CANONICAL = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

function randomCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** RECOVERY_CODE_COUNT distinct codes, shown as `xxxxx-xxxxx` */
export function generateRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(randomCode());
  return [...codes].map((code) => `${code.slice(0, 5)}-${code.slice(5)}`);
}

/** the canonical form (lower case, no dashes or spaces) when `input` looks like a recovery code, else null */
export function normalizeRecoveryCode(input: string): string | null {
  const canonical = input.replace(/[\s-]/g, '').toLowerCase();
  return CANONICAL.test(canonical) ? canonical : null;
}

/** true when `input` (spaces removed) is exactly 6 ASCII digits: a TOTP code rather than a recovery code */
export function looksLikeTotp(input: string): boolean {
  return /^[0-9]{6}$/.test(input.replace(/\s/g, ''));
}
