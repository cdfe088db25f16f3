/**
 * Key rotation and the keys a tenant publishes (sealing and opening: security/signing-keys.ts).
 */
import { SYSTEM_ACTOR, ACCESS_TOKEN_TTL, type Actor } from '../contract.ts';
import type { SigningAlg } from '../generated/prisma/enums.ts';
import type { SecretBox } from '../security/crypto.ts';
import { generateSigningKey, sealPrivateJwk } from '../security/signing-keys.ts';
import type { TenantRepos, TenantScope } from './deps.ts';
import { authorize } from './policy.ts';

export async function createKey(repos: TenantRepos, secretBox: SecretBox, alg: SigningAlg, state: 'active' | 'next'): Promise<string> {
  const key = await generateSigningKey(alg);
  await repos.keys.create({
    kid: key.kid,
    alg,
    state,
    publicJwk: JSON.parse(JSON.stringify(key.publicJwk)) as Record<string, string>,
    privateJwkEncrypted: sealPrivateJwk(key.privateJwk, repos.tenantId, key.kid, secretBox),
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
export function createKeyService({ deps, tenant, repos: r, change }: TenantScope) {
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
      authorize(actor, { operation: 'keys.rotate', tenant });
      const algorithm = (await deps.repos.tenants.findById(tenant.id))?.signingAlg ?? 'ES256';
      const maxTtl = Math.max(ACCESS_TOKEN_TTL.default, ...(await r.resources.listAll()).map((x) => x.accessTokenTtl));
      type Rotated = { kid: string; retired: string[] };
      const audit = {
        type: 'keys.rotated',
        target: (r: Rotated) => r.kid,
        data: (r: Rotated) => ({ retired: r.retired }),
        invalidates: true,
        lockKey: KEY_ROTATION_LOCK,
      };
      return change(actor, audit, async (t): Promise<Rotated> => {
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
        return { kid: promoted, retired: active.map((k) => k.kid) };
      }).then(({ kid }) => ({ kid }));
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;

const KEY_ROTATION_LOCK = 0x7e55e2c;
