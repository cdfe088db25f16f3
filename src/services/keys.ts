/**
 * Signing keys: generated per tenant, private JWK sealed with AES-256-GCM (the row's tenant and
 * kid are the additional data, so a sealed key cannot be moved to another row), public JWK kept
 * in clear for JWKS.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { SigningKeyRow } from '../repositories/keys.ts';
import type { SecretBox } from '../security/crypto.ts';
import { SYSTEM_ACTOR, type Actor, type ServiceDeps, type TenantRepos, changeTenant } from './deps.ts';
import { authorize } from './policy.ts';

export const keyAad = (tenantId: string, kid: string) => `signing-key:${tenantId}:${kid}`;

export async function generateSigningKey(alg: SigningAlg) {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg, use: 'sig' };
  return { kid, publicJwk: { ...publicJwk, ...meta }, privateJwk: { ...(await exportJWK(privateKey)), ...meta } };
}

export async function createKey(repos: TenantRepos, secretBox: SecretBox, alg: SigningAlg, state: 'active' | 'next'): Promise<string> {
  const key = await generateSigningKey(alg);
  await repos.keys.create({
    kid: key.kid,
    alg,
    state,
    publicJwk: JSON.parse(JSON.stringify(key.publicJwk)) as Record<string, string>,
    privateJwkEncrypted: secretBox.encrypt(JSON.stringify(key.privateJwk), keyAad(repos.tenantId, key.kid)),
    activatedAt: state === 'active' ? new Date() : null,
  });
  return key.kid;
}

/** seconds a retired key stays published after its last token: clock skew of verifiers */
export const RETIRE_MARGIN_SECONDS = 60;

export interface KeyView {
  kid: string;
  alg: SigningAlg;
  state: 'next' | 'active' | 'retired';
  createdAt: string;
  activatedAt: string | null;
  publishedUntil: string | null;
}

/**
 * Key rotation (CONTRACT §5). Every tenant keeps a `next` key that is published in JWKS but does
 * not sign. Rotating promotes it to `active` (so the key that starts signing has been published
 * since the previous rotation), retires the old active key — still published until the longest
 * access-token lifetime of the tenant has passed — and publishes a fresh `next` key.
 */
export function createKeyService(deps: ServiceDeps, tenantId: string, alg: () => Promise<SigningAlg>) {
  const r = deps.repos.forTenant(tenantId);
  return {
    async list(): Promise<KeyView[]> {
      return (await r.keys.listPublished()).map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        createdAt: k.createdAt.toISOString(),
        activatedAt: k.activatedAt?.toISOString() ?? null,
        publishedUntil: k.publishedUntil?.toISOString() ?? null,
      }));
    },
    async rotate(actor: Actor = SYSTEM_ACTOR): Promise<{ kid: string }> {
      authorize(actor, { operation: 'keys.rotate', tenant: { id: tenantId } });
      const algorithm = await alg();
      const maxTtl = Math.max(3600, ...(await r.resources.listAll()).map((x) => x.accessTokenTtl));
      const kid = await changeTenant(
        deps,
        tenantId,
        async (tx) => {
          const t = tx.forTenant(tenantId);
          const now = new Date();
          const [next] = await t.keys.findByState('next');
          const active = await t.keys.findByState('active');
          // a tenant without a published next key (none yet) activates a fresh key at once
          const promoted = next?.kid ?? (await createKey(t, deps.secretBox, algorithm, 'next'));
          await t.keys.setState(promoted, 'active', { activatedAt: now });
          for (const old of active) {
            await t.keys.setState(old.kid, 'retired', {
              retiredAt: now,
              publishedUntil: new Date(now.getTime() + (maxTtl + RETIRE_MARGIN_SECONDS) * 1000),
            });
          }
          await createKey(t, deps.secretBox, algorithm, 'next');
          await t.audit.record({ type: 'keys.rotated', actor: actor.actor, target: promoted, data: { retired: active.map((k) => k.kid) } });
          return promoted;
        },
        { lockKey: KEY_ROTATION_LOCK },
      );
      return { kid };
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;

const KEY_ROTATION_LOCK = 0x7e55e2c;

export function openPrivateJwk(row: SigningKeyRow, tenantId: string, secretBox: SecretBox): JWK {
  return JSON.parse(secretBox.decrypt(row.privateJwkEncrypted, keyAad(tenantId, row.kid))) as JWK;
}
