/**
 * First-run bootstrap (CONTRACT §3): when no platform admin exists, create tenant `system` (with
 * its built-ins) and the admin user with role `platform-admin`. Runs under an advisory lock, so
 * several instances starting together on an empty database create exactly one of each.
 *
 * Bootstrap never gives a role to a user it does not create now. If every platform admin is gone
 * and a user named BOOTSTRAP_ADMIN_USERNAME exists, that user is left as it is (anyone who could
 * create or rename a user of that name would otherwise become platform admin at the next start):
 * start-up warns, and the operator recovers explicitly with `tessera admin recover`.
 */
import { randomSecret } from './security/crypto.ts';
import type { Database } from './db/database.ts';
import type { Repositories } from './repositories/index.ts';
import type { Services } from './services/index.ts';
import { PLATFORM_ADMIN_ROLE, SYSTEM_ACTOR, SYSTEM_TENANT, TENANT_ADMIN_ROLE } from './contract.ts';
import { resolveRoleIds } from './services/roles.ts';
import type { PasswordHasher } from './security/passwords.ts';

export const BOOTSTRAP_LOCK_KEY = 0x7e55e2b;

export interface BootstrapResult {
  created: boolean;
  /** set only when a password was generated: the caller prints it once */
  generatedPassword?: string;
  /** no platform admin exists and the bootstrap username is taken: recovery is `tessera admin recover` */
  noPlatformAdmin?: true;
}

export async function bootstrap(deps: {
  db: Database;
  repos: Repositories;
  services: Services;
  passwords: PasswordHasher;
  username: string;
  password: string | undefined;
}): Promise<BootstrapResult> {
  return deps.db.withLock(BOOTSTRAP_LOCK_KEY, async () => {
    const password = deps.password ?? randomSecret(18);
    const generated = deps.password === undefined ? { generatedPassword: password } : {};
    const system = await deps.repos.tenants.findBySlug(SYSTEM_TENANT);
    if (!system) {
      await deps.services.tenants.create({ slug: SYSTEM_TENANT, name: 'Tessera platform', admin: { username: deps.username, password } }, SYSTEM_ACTOR, {
        allowReserved: true,
        adminRoles: [PLATFORM_ADMIN_ROLE, TENANT_ADMIN_ROLE],
      });
      return { created: true, ...generated };
    }
    const r = deps.repos.forTenant(system.id);
    if ((await r.users.count({ roleName: PLATFORM_ADMIN_ROLE })) > 0) return { created: false };
    // every platform admin is gone. An existing user of that name is never promoted here.
    if (await r.users.findByUsername(deps.username)) return { created: false, noPlatformAdmin: true };
    const roleIds = await resolveRoleIds(r, [PLATFORM_ADMIN_ROLE, TENANT_ADMIN_ROLE]);
    // argon2 before the transaction, not while it holds locks
    const passwordHash = await deps.passwords.hash(password);
    const user = await deps.repos.transaction(async (tx) => {
      const t = tx.forTenant(system.id);
      const created = await t.users.create({ username: deps.username, passwordHash, roleIds });
      await t.audit.record({ type: 'bootstrap.admin_created', actor: SYSTEM_ACTOR.actor, target: created.id });
      return created;
    });
    return { created: Boolean(user), ...generated };
  });
}
