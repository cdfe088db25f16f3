/**
 * A user's second factors: the TOTP authenticator, recovery codes and passkeys. The two single-use
 * checks are one conditional UPDATE each, so that of concurrent requests with the same code exactly
 * one succeeds (a check-then-act would let 40 parallel requests all pass): a TOTP step is accepted
 * only if it is later than the last accepted one, a recovery code only while unused.
 */
import type { Db } from './db.ts';
import { isUuid } from './db.ts';

export interface NewPasskey {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
}

export interface PasskeyRow extends NewPasskey {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const toPasskey = (p: Omit<PasskeyRow, 'counter'> & { counter: bigint }): PasskeyRow => ({ ...p, counter: Number(p.counter) });

export function createMfaRepository(db: Db, tenantId: string) {
  return {
    /** the user's first authenticator; false when one is set up already (it is never replaced silently) */
    async addTotp(userId: string, secretSealed: string): Promise<boolean> {
      const n = await db.$executeRaw`
        INSERT INTO totp_factors (user_id, tenant_id, secret_sealed) VALUES (${userId}::uuid, ${tenantId}::uuid, ${secretSealed})
        ON CONFLICT (user_id) DO NOTHING`;
      return n === 1;
    },
    async removeTotp(userId: string): Promise<boolean> {
      if (!isUuid(userId)) return false;
      return (await db.totpFactor.deleteMany({ where: { tenantId, userId } })).count === 1;
    },
    /**
     * true when `step` is later than every step accepted before and fewer than `failureLimit`
     * wrong codes came in a row (and records it, clearing the count); false: a replay, or blocked
     */
    async acceptTotpStep(userId: string, step: number, failureLimit: number): Promise<boolean> {
      // the limit is checked in the same statement: parallel wrong codes cannot slip a right one past it
      const n = await db.$executeRaw`
        UPDATE totp_factors SET last_step = ${BigInt(step)}, failures = 0
        WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND last_step < ${BigInt(step)} AND failures < ${failureLimit}`;
      return n === 1;
    },
    /** one more wrong code in a row; the count it reached (0: no app) */
    async countTotpFailure(userId: string): Promise<number> {
      const [row] = await db.$queryRaw<{ failures: number }[]>`
        UPDATE totp_factors SET failures = failures + 1
        WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid
        RETURNING failures`;
      return row?.failures ?? 0;
    },
    /** a recovery code signed the user in: the app's codes work again */
    async clearTotpFailures(userId: string): Promise<void> {
      await db.$executeRaw`UPDATE totp_factors SET failures = 0 WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND failures > 0`;
    },
    /** replaces every recovery code of the user */
    async replaceRecoveryCodes(userId: string, hashes: string[]): Promise<void> {
      await db.recoveryCode.deleteMany({ where: { tenantId, userId } });
      await db.recoveryCode.createMany({ data: hashes.map((hash) => ({ tenantId, userId, hash })) });
    },
    /** marks the unused code with this hash used; false when there is none (wrong or already used) */
    async useRecoveryCode(userId: string, hash: string): Promise<boolean> {
      if (!isUuid(userId)) return false;
      const n = await db.$executeRaw`
        UPDATE recovery_codes SET used_at = now()
        WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND hash = ${hash} AND used_at IS NULL`;
      return n === 1;
    },
    async listPasskeys(userId: string): Promise<PasskeyRow[]> {
      if (!isUuid(userId)) return [];
      const rows = await db.passkey.findMany({ where: { tenantId, userId }, orderBy: { createdAt: 'asc' } });
      return rows.map(toPasskey);
    },
    async findPasskey(credentialId: string): Promise<PasskeyRow | null> {
      const row = await db.passkey.findUnique({ where: { tenantId_credentialId: { tenantId, credentialId } } });
      return row ? toPasskey(row) : null;
    },
    async addPasskey(userId: string, p: NewPasskey): Promise<PasskeyRow> {
      const row = await db.passkey.create({ data: { tenantId, userId, ...p, publicKey: Buffer.from(p.publicKey), counter: BigInt(p.counter) } });
      return toPasskey(row);
    },
    /**
     * records a use; the signature counter must grow when the authenticator keeps one (a cloned
     * authenticator shows an old counter): false when another use with this counter or a later one
     * was recorded first
     */
    async usePasskey(id: string, counter: number): Promise<boolean> {
      const n = await db.$executeRaw`
        UPDATE passkeys SET counter = ${BigInt(counter)}, last_used_at = now()
        WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid AND (${BigInt(counter)} = 0 OR counter < ${BigInt(counter)})`;
      return n === 1;
    },
    async removePasskey(userId: string, id: string): Promise<boolean> {
      if (!isUuid(userId) || !isUuid(id)) return false;
      return (await db.passkey.deleteMany({ where: { tenantId, userId, id } })).count === 1;
    },
    /** every factor and recovery code of the user; how many of each were removed */
    async resetAll(userId: string): Promise<{ totp: number; passkeys: number; recoveryCodes: number }> {
      const totp = (await db.totpFactor.deleteMany({ where: { tenantId, userId } })).count;
      const passkeys = (await db.passkey.deleteMany({ where: { tenantId, userId } })).count;
      const recoveryCodes = (await db.recoveryCode.deleteMany({ where: { tenantId, userId } })).count;
      return { totp, passkeys, recoveryCodes };
    },
  };
}
export type MfaRepository = ReturnType<typeof createMfaRepository>;
