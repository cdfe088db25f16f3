/**
 * The password policy (OWASP ASVS 5 V6.2, NIST SP 800-63B §3.1.1.2): at least 8 characters, at
 * most 1024 (any character, spaces and Unicode included, no composition rules), not one of the
 * ~49,000 most common passwords (zxcvbn-ts' frequency list, which holds the 10,000 most common and
 * more), compared case-insensitively, and not the username itself. Applied wherever a password is
 * set: the admin API, the CLI, tenant creation and the bootstrap admin.
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors.ts';
import { CONTROL_CHARS, usernameKey } from './usernames.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

let common: Set<string> | undefined;
/** the list, loaded once on first use (~49k entries, a few MB in memory) */
const commonPasswords = () => (common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase())));

/** why `password` may not be used, or undefined when it may */
export function passwordProblem(password: string, username?: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (CONTROL_CHARS.test(password)) return 'must not contain control characters';
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return 'is one of the most commonly used passwords; choose another';
  if (username !== undefined && lower === usernameKey(username)) return 'must not be the username';
  return undefined;
}

/** throws a 400 naming the field when `password` may not be used */
export function assertPasswordAllowed(password: string, opts: { username?: string | undefined; field?: string } = {}): void {
  const problem = passwordProblem(password, opts.username);
  if (problem) {
    const path = opts.field ?? 'password';
    throw new AppError('invalid_request', `the password ${problem}`, { errors: [{ path, message: problem }] });
  }
}
