/**
 * Usernames, as Keycloak treats them: compared case-insensitively after Unicode NFC, so `Ann`,
 * `ann` and a decomposed `Ánn` typed on another keyboard are one user. The key is what sign-in
 * matches, what the database keeps unique per tenant and what the brute-force counter is keyed by;
 * the username as entered (NFC) is what admins see.
 */

/** control characters (C0, DEL, C1): never part of a name, and PostgreSQL refuses NUL */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export const normalizeUsername = (username: string) => username.normalize('NFC').trim();

export const usernameKey = (username: string) => normalizeUsername(username).toLowerCase();

/** why `username` cannot name a user, or undefined when it can */
export function usernameProblem(username: string): string | undefined {
  const name = normalizeUsername(username);
  if (!name.length) return 'must not be empty';
  if (name.length > 200) return 'must be at most 200 characters';
  if (CONTROL_CHARS.test(name)) return 'must not contain control characters';
  return undefined;
}
