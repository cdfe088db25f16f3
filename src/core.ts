/**
 * The core shared by the server and the operator CLI: key encryption key, database (migrated),
 * repositories, password hasher and services. Change notifications go through `hooks`, which the
 * server points at its tenant pool once it has one.
 */
import { hkdfSync } from 'node:crypto';
import type { Config } from './config/index.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createRepositories, type Repositories } from './repositories/index.ts';
import { createSecretBox, type SecretBox } from './security/crypto.ts';
import { resolveKeyEncryptionKey } from './security/kek.ts';
import { createPasswordHasher, type PasswordHasher } from './security/passwords.ts';
import { createWorkLimiter } from './security/work-limiter.ts';
import { createServices, type Services } from './services/index.ts';
import { createRevocationMirror, type RevocationMirror } from './security/revocation-list.ts';
import type { Store } from './store/index.ts';

export interface CoreHooks {
  onTenantChanged(tenantId: string): void;
  onTenantCreated(slug: string): void;
}

export interface Core {
  db: Database;
  repos: Repositories;
  services: Services;
  secretBox: SecretBox;
  passwords: PasswordHasher;
  /** keys that sign oidc-provider's cookies, derived from the key encryption key */
  cookieKeys: string[];
  hooks: CoreHooks;
  /** revocations mirrored in the store (see security/revocation-list.ts) */
  revocationMirror: RevocationMirror;
  migrationsApplied: string[];
}

/** `store`: the server's (Redis or in-process), or the CLI's connection to the servers' Redis */
export async function openCore(config: Config, publicUrl: string, store: Store): Promise<Core> {
  const kek = await resolveKeyEncryptionKey(config);
  const secretBox = createSecretBox(kek);
  const cookieKeys = [Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera/cookie-keys', 32)).toString('base64url')];
  const passwords = createPasswordHasher(
    config.argon2,
    createWorkLimiter({ concurrency: config.passwordHashConcurrency, queue: config.passwordHashQueue }),
  );
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const migrationsApplied = await migrate(db);
    const repos = createRepositories(db.prisma);
    const hooks: CoreHooks = { onTenantChanged: () => {}, onTenantCreated: () => {} };
    const revocationMirror = createRevocationMirror(store);
    const services = createServices({
      revocationMirror,
      repos,
      secretBox,
      passwords,
      publicUrl,
      clientSecretGraceSeconds: config.clientSecretGraceSeconds,
      onTenantChanged: (id) => hooks.onTenantChanged(id),
      onTenantCreated: (slug) => hooks.onTenantCreated(slug),
    });
    return { db, repos, services, secretBox, passwords, cookieKeys, hooks, revocationMirror, migrationsApplied };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
