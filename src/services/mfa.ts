/**
 * Second factors of a tenant's users (issue 16): a TOTP authenticator (RFC 6238; the secret sealed
 * with the key-encryption key, bound to its user by the AEAD's associated data), ten single-use
 * recovery codes (keyed hashes: they are high-entropy, so HMAC, not argon2), and passkeys
 * (WebAuthn credentials, verified by oidc/webauthn.ts). Self-service changes are recorded with the
 * user as actor; an admin's reset goes through the policy like every other change to a user.
 *
 * Code checks are single-use under concurrency: a TOTP step and a recovery code are consumed by
 * one conditional UPDATE each (repositories/mfa.ts), so of 40 parallel requests carrying the same
 * code exactly one is accepted.
 */
import { SYSTEM_ACTOR, type Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { NewPasskey, PasskeyRow } from '../repositories/mfa.ts';
import type { UserRow } from '../repositories/users.ts';
import { generateRecoveryCodes, looksLikeTotp, normalizeRecoveryCode } from '../security/recovery-codes.ts';
import { matchTotp } from '../security/totp.ts';
import type { TenantScope } from './deps.ts';
import { authorize } from './policy.ts';

/** how a code was accepted: RFC 8176 `otp` for both (a recovery code is a one-time password) */
export type CodeKind = 'totp' | 'recovery';

export interface MfaView {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

export const mfaView = (u: Pick<UserRow, 'totpSealed' | 'passkeyCount' | 'recoveryCodesLeft'>): MfaView => ({
  totp: u.totpSealed !== null,
  passkeys: u.passkeyCount,
  recoveryCodesLeft: u.recoveryCodesLeft,
});

/** the actor of a user's own change (account page, enrolment during sign-in) */
export const selfActor = (userId: string): Actor => ({ actor: `user:${userId}`, authority: { kind: 'none' } });

/**
 * Wrong app codes in a row before the app's codes are refused (NIST SP 800-63B §5.2.2 asks for at
 * most 100): the brute-force guard's locks are short, and a guesser with many addresses would
 * otherwise get about a guess a minute forever. A recovery code or an admin's reset opens it again.
 */
export const TOTP_FAILURE_LIMIT = 10;

/** an id no user has: the recovery-code statement runs for unknown users too (same work) */
const NO_USER = '00000000-0000-0000-0000-000000000000';

export function createMfaService({ deps, tenant, repos: r, change }: TenantScope) {
  const aad = (userId: string) => `totp:${tenant.id}:${userId}`;
  const hashCode = (canonical: string) => deps.secretBox.keyedHash(`recovery:${tenant.id}:${canonical}`);

  async function newRecoveryCodes(t: typeof r, userId: string): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await t.mfa.replaceRecoveryCodes(
      userId,
      codes.map((c: string) => hashCode(normalizeRecoveryCode(c)!)),
    );
    return codes;
  }

  return {
    /** a TOTP secret offered for enrolment, sealed while it waits in the store for its first code */
    sealPending: (secret: string, bind: string) => deps.secretBox.encrypt(secret, `totp-pending:${tenant.id}:${bind}`),
    openPending(sealed: string, bind: string): string | undefined {
      try {
        return deps.secretBox.decrypt(sealed, `totp-pending:${tenant.id}:${bind}`);
      } catch {
        return undefined;
      }
    },
    /**
     * Checks a code of `user` (null: unknown user) and consumes it: a current TOTP code not used
     * before, or an unused recovery code. `commit: false` runs the same checks without consuming
     * anything (the password was wrong: the answer is a refusal either way, in the same time).
     */
    async verifyCode(user: Pick<UserRow, 'id' | 'totpSealed' | 'totpFailures'> | null, code: string, commit = true): Promise<CodeKind | null> {
      if (looksLikeTotp(code)) {
        if (!user?.totpSealed) return null;
        let secret: string;
        try {
          secret = deps.secretBox.decrypt(user.totpSealed, aad(user.id));
        } catch {
          return null;
        }
        const step = matchTotp(secret, code);
        if (!commit) return null;
        // past the limit even the right code is refused: a guesser learns nothing from it
        if (user.totpFailures >= TOTP_FAILURE_LIMIT) return null;
        if (step !== null && (await r.mfa.acceptTotpStep(user.id, step, TOTP_FAILURE_LIMIT))) return 'totp';
        // the count this failure reached, not the one read before: of parallel wrong codes, exactly
        // the one that reaches the limit records the block
        if ((await r.mfa.countTotpFailure(user.id)) === TOTP_FAILURE_LIMIT) {
          await r.audit.record({ type: 'mfa.totp_blocked', actor: `user:${user.id}`, target: user.id, data: { failures: TOTP_FAILURE_LIMIT } });
        }
        return null;
      }
      const canonical = normalizeRecoveryCode(code);
      if (!canonical) return null;
      const used = await r.mfa.useRecoveryCode(user && commit ? user.id : NO_USER, hashCode(canonical));
      if (!used || !user) return null;
      await r.mfa.clearTotpFailures(user.id);
      return 'recovery';
    },

    /**
     * Enrols a TOTP authenticator once the user proved it works (a code for `secret`); the step of
     * that code counts as used. Returns new recovery codes when the user had none left, else [].
     */
    /**
     * `user.securityVersion`: the version the caller read; the enrolment happens only if nothing
     * changed how the user signs in since (a reset, a password change, another factor) — a request
     * or a sign-in step under way across such a change does not go on (found in review).
     */
    async enrolTotp(
      user: Pick<UserRow, 'id' | 'recoveryCodesLeft'> & { securityVersion?: number },
      secret: string,
      code: string,
    ): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; reason: 'code' | 'changed' }> {
      const step = matchTotp(secret, code);
      if (step === null) return { ok: false, reason: 'code' };
      const sealed = deps.secretBox.encrypt(secret, aad(user.id));
      const changed = new AppError('conflict', 'the account changed, or an authenticator app is set up already');
      try {
        const recoveryCodes = await change(selfActor(user.id), { type: 'mfa.enrolled', target: user.id, data: { factor: 'totp' } }, async (t) => {
          if (!(await t.users.bumpSecurityVersion(user.id, user.securityVersion))) throw changed;
          // never replaces one: a sign-in left half-done, or a session, cannot swap the user's app for another
          if (!(await t.mfa.addTotp(user.id, sealed))) throw changed;
          await t.mfa.acceptTotpStep(user.id, step, TOTP_FAILURE_LIMIT);
          return user.recoveryCodesLeft > 0 ? [] : newRecoveryCodes(t, user.id);
        });
        return { ok: true, recoveryCodes };
      } catch (err) {
        if (err === changed) return { ok: false, reason: 'changed' };
        throw err;
      }
    },

    async removeTotp(userId: string): Promise<void> {
      await change(selfActor(userId), { type: 'mfa.removed', target: userId, data: { factor: 'totp' } }, async (t) => {
        if (!(await t.mfa.removeTotp(userId))) throw new AppError('not_found', 'no authenticator app is set up');
        await t.users.bumpSecurityVersion(userId);
      });
    },

    regenerateRecoveryCodes: (userId: string): Promise<string[]> =>
      change(selfActor(userId), { type: 'mfa.recovery_codes_generated', target: userId }, (t) => newRecoveryCodes(t, userId)),

    listPasskeys: (userId: string): Promise<PasskeyRow[]> => r.mfa.listPasskeys(userId),
    findPasskey: (credentialId: string): Promise<PasskeyRow | null> => r.mfa.findPasskey(credentialId),
    usePasskey: (id: string, counter: number): Promise<boolean> => r.mfa.usePasskey(id, counter),
    /** a passkey signed the user in: the app's codes work again */
    clearTotpFailures: (userId: string): Promise<void> => r.mfa.clearTotpFailures(userId),

    /** registers a verified passkey; returns new recovery codes when the user had none left, else [] */
    async addPasskey(user: Pick<UserRow, 'id' | 'recoveryCodesLeft'> & { securityVersion?: number }, passkey: NewPasskey): Promise<string[]> {
      const conflict = 'this passkey is already registered';
      return change(selfActor(user.id), { type: 'mfa.enrolled', target: user.id, data: { factor: 'passkey', name: passkey.name }, conflict }, async (t) => {
        // only if nothing changed how the user signs in since the caller read it (see enrolTotp)
        if (!(await t.users.bumpSecurityVersion(user.id, user.securityVersion))) throw new AppError('conflict', 'the account changed; reload the page');
        await t.mfa.addPasskey(user.id, passkey);
        return user.recoveryCodesLeft > 0 ? [] : newRecoveryCodes(t, user.id);
      });
    },

    async removePasskey(userId: string, id: string): Promise<void> {
      await change(selfActor(userId), { type: 'mfa.removed', target: userId, data: { factor: 'passkey', passkey: id } }, async (t) => {
        if (!(await t.mfa.removePasskey(userId, id))) throw new AppError('not_found', 'passkey not found');
        await t.users.bumpSecurityVersion(userId);
      });
    },

    /**
     * An admin resets every second factor of a user (a lost or stolen phone): authorised on the
     * locked row like every change to a user (a holder of platform-admin only by a platform admin).
     * The user's browser sessions, grants and refresh tokens end with it (made with the old
     * factors, they may be in the wrong hands); the user signs in with the password and, where the
     * policy covers them, enrols again.
     */
    async reset(userId: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      const data = (removed: { totp: number; passkeys: number; recoveryCodes: number }) => ({ ...removed, sessions_ended: true });
      await change(actor, { type: 'mfa.reset', target: userId, data }, async (t) => {
        const user = await t.users.lockForUpdate(userId);
        if (!user) throw new AppError('not_found', 'user not found');
        authorize(actor, { operation: 'user.mfa_reset', tenant, target: { roles: user.roles } });
        const removed = await t.mfa.resetAll(userId);
        await t.users.bumpSecurityVersion(userId);
        await t.artifacts.revokeByAccount(userId);
        return removed;
      });
    },
  };
}
export type MfaService = ReturnType<typeof createMfaService>;
