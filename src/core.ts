/**
 * The core shared by the server and the operator CLI: key encryption key, database (migrated),
 * repositories, password hasher, revocation mirror, tenant events and services, and the tenant
 * settings slice. `tenant(slug)` builds one tenant's context (the server's pool keeps them; the
 * CLI builds the one it acts on).
 */
import { hkdfSync } from 'node:crypto';
import type { Config } from './config/index.ts';
import { type PlatformSettings, tenantSettings } from './config/tenant-settings.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createRepositories, type Repositories } from './repositories/index.ts';
import { createSecretBox, type SecretBox } from './security/crypto.ts';
import { resolveKeyEncryptionKey } from './security/kek.ts';
import { createPasswordHasher, type PasswordHasher } from './security/passwords.ts';
import { createWorkLimiter } from './security/work-limiter.ts';
import type { ServiceDeps } from './services/deps.ts';
import { createServices, type Services } from './services/index.ts';
import { createRevocationMirror, type RevocationMirror } from './services/revocation-list.ts';
import type { Store } from './store/index.ts';
import { createTenantContext, type TenantContext } from './tenants/context.ts';
import { createTenantEvents, type TenantEventHub } from './tenants/events.ts';

export interface Core {
  readonly publicUrl: string;
  readonly db: Database;
  readonly repos: Repositories;
  readonly services: Services;
  readonly serviceDeps: ServiceDeps;
  readonly secretBox: SecretBox;
  readonly passwords: PasswordHasher;
  /** keys that sign oidc-provider's cookies, derived from the key encryption key */
  readonly cookieKeys: string[];
  /** tenant changed / created, heard here and published to every instance */
  readonly events: TenantEventHub;
  /** revocations mirrored in the store (see services/revocation-list.ts) */
  readonly revocationMirror: RevocationMirror;
  readonly settings: PlatformSettings;
  readonly migrationsApplied: string[];
  /** one tenant's context (repositories, services, settings), built now from its row (null: no such tenant) */
  tenant(slug: string): Promise<TenantContext | null>;
}

/** `store`: the server's (Redis or in-process), or the CLI's connection to the servers' Redis */
export async function openCore(config: Config, publicUrl: string, store: Store): Promise<Core> {
  const kek = await resolveKeyEncryptionKey(config);
  const secretBox = createSecretBox(kek);
  const cookieKeys = [Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera/cookie-keys', 32)).toString('base64url')];
  const passwords = createPasswordHasher(config.argon2, createWorkLimiter({ concurrency: config.passwordHashConcurrency, queue: config.passwordHashQueue }));
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const migrationsApplied = await migrate(db);
    const repos = createRepositories(db.prisma);
    const events = createTenantEvents(store);
    const revocationMirror = createRevocationMirror(store);
    const serviceDeps: ServiceDeps = {
      revocationMirror,
      repos,
      secretBox,
      passwords,
      publicUrl,
      clientSecretGraceSeconds: config.clientSecretGraceSeconds,
      events,
    };
    const core: Core = {
      publicUrl,
      db,
      repos,
      services: createServices(serviceDeps),
      serviceDeps,
      secretBox,
      passwords,
      cookieKeys,
      events,
      revocationMirror,
      settings: tenantSettings(config, publicUrl),
      migrationsApplied,
      async tenant(slug) {
        const row = await repos.tenants.findBySlug(slug);
        return row && createTenantContext(core, row);
      },
    };
    return core;
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
