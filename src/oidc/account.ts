/** The oidc-provider Account for a Tessera user: its roles travel with it to the token claims. */
import type { Account } from 'oidc-provider';
import type { UserRow } from '../repositories/users.ts';

export interface TesseraAccount extends Account {
  roles: string[];
}

export function toAccount(user: Pick<UserRow, 'id' | 'username' | 'email' | 'roles'>): TesseraAccount {
  return {
    accountId: user.id,
    roles: user.roles,
    // standard claims only for what the user has; no PII goes into access tokens
    claims: async () => ({ sub: user.id, preferred_username: user.username, ...(user.email ? { email: user.email } : {}) }),
  };
}

export function isTesseraAccount(a: unknown): a is TesseraAccount {
  return typeof a === 'object' && a !== null && Array.isArray((a as TesseraAccount).roles);
}
