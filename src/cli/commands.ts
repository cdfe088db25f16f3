/** The CLI's commands, each a call of the service layer (see main.ts for the synopsis). */
import type { Config } from '../config/index.ts';
import { openCore, type Core } from '../core.ts';
import { createStore } from '../store/index.ts';
import { AppError } from '../errors.ts';
import { randomSecret } from '../security/crypto.ts';
import { GRANT_TYPES, PLATFORM_ADMIN_ROLE, SYSTEM_TENANT, TENANT_ADMIN_ROLE, type GrantType } from '../contract.ts';

export class UsageError extends Error {}

export const USAGE = `usage:
  tessera tenant create <slug> --name <name> [--alg ES256|RS256|EdDSA] [--admin-username <u> --admin-password <p>]
  tessera user create <tenant> <username> --password <p> [--role <r>]... [--email <e>] [--temporary-password]
  tessera client create <tenant> --name <name> --grant <grant>... [--role <r>]... [--default-resource <url>] [--redirect-uri <url>]... [--public]
  tessera keys rotate <tenant>
  tessera admin reset-password [--username <u>] [--password <p>]
  tessera admin recover [--username <u>] [--password <p>]
options: --json (machine-readable output)
`;

export interface Options {
  name?: string | undefined;
  alg?: string | undefined;
  'admin-username'?: string | undefined;
  'admin-password'?: string | undefined;
  password?: string | undefined;
  email?: string | undefined;
  role?: string[] | undefined;
  grant?: string[] | undefined;
  'default-resource'?: string | undefined;
  'redirect-uri'?: string[] | undefined;
  public?: boolean | undefined;
  username?: string | undefined;
  'temporary-password'?: boolean | undefined;
}

export interface CommandResult {
  text: string;
  data: Record<string, unknown>;
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined || v === '') throw new UsageError(`missing ${what}`);
  return v;
};
const ALGS = ['ES256', 'RS256', 'EdDSA'] as const;

export async function runCommand(config: Config, args: string[], o: Options): Promise<CommandResult> {
  const [noun, verb, ...rest] = args;
  const command = `${noun ?? ''} ${verb ?? ''}`;
  const known = ['tenant create', 'user create', 'client create', 'keys rotate', 'admin reset-password', 'admin recover'];
  if (!known.includes(command)) throw new UsageError(`unknown command "${args.join(' ')}"`);

  // with REDIS_URL, the servers' Redis: invalidations and revocations reach the running servers
  const store = createStore(config.redisUrl, { offlineQueue: true, cluster: config.redisCluster });
  let core: Core;
  try {
    core = await openCore(config, config.publicUrl, store);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { services } = core;
  // the tenant acted on, built as a server builds it (its services and repositories)
  const tenant = async (slug: string | undefined) => {
    const t = await core.tenant(need(slug, '<tenant>'));
    if (!t) throw new AppError('not_found', `tenant "${slug}" not found`);
    return t;
  };
  try {
    switch (command) {
      case 'tenant create': {
        const alg = o.alg;
        if (alg !== undefined && !(ALGS as readonly string[]).includes(alg)) throw new UsageError('--alg must be ES256, RS256 or EdDSA');
        if (!!o['admin-username'] !== !!o['admin-password']) throw new UsageError('--admin-username and --admin-password go together');
        const t = await services.tenants.create({
          slug: need(rest[0], '<slug>'),
          name: need(o.name, '--name'),
          ...(alg ? { signingAlg: alg as (typeof ALGS)[number] } : {}),
          ...(o['admin-username'] ? { admin: { username: o['admin-username'], password: o['admin-password']! } } : {}),
        });
        return { text: `created tenant ${t.slug} (issuer ${t.issuer})`, data: { slug: t.slug, name: t.name, issuer: t.issuer } };
      }
      case 'user create': {
        const u = await (await tenant(rest[0])).services.users.create({
          username: need(rest[1], '<username>'),
          password: need(o.password, '--password'),
          roles: o.role ?? [],
          ...(o.email ? { email: o.email } : {}),
          ...(o['temporary-password'] ? { temporaryPassword: true } : {}),
        });
        return { text: `created user ${u.username} (${u.id}) with roles [${u.roles.join(', ')}]`, data: { ...u } };
      }
      case 'client create': {
        const grants = need(o.grant, '--grant');
        const bad = grants.find((g) => !(GRANT_TYPES as readonly string[]).includes(g));
        if (bad) throw new UsageError(`unknown grant "${bad}" (one of ${GRANT_TYPES.join(', ')})`);
        const c = await (await tenant(rest[0])).services.clients.create({
          name: need(o.name, '--name'),
          grantTypes: grants as GrantType[],
          roles: o.role ?? [],
          ...(o['default-resource'] ? { defaultResource: o['default-resource'] } : {}),
          ...(o['redirect-uri'] ? { redirectUris: o['redirect-uri'] } : {}),
          ...(o.public ? { tokenEndpointAuthMethod: 'none' as const } : {}),
        });
        const text = c.clientSecret ? `created client ${c.clientId}\nclient secret (shown only now): ${c.clientSecret}` : `created public client ${c.clientId}`;
        return { text, data: { ...c } };
      }
      case 'keys rotate': {
        const { kid } = await (await tenant(rest[0])).services.keys.rotate();
        return { text: `tenant ${rest[0]} now signs with ${kid}`, data: { kid } };
      }
      case 'admin recover': {
        // the explicit recovery bootstrap never does on its own: make <username> a platform admin
        // of `system` (created when missing), enabled, with a new password (its sessions end)
        const username = o.username ?? config.bootstrapAdminUsername;
        const password = o.password ?? randomSecret(18);
        const system = await tenant(SYSTEM_TENANT);
        const row = await system.repos.users.findByUsername(username);
        const roles = [...new Set([...(row?.roles ?? []), PLATFORM_ADMIN_ROLE, TENANT_ADMIN_ROLE])];
        if (row) await system.services.users.update(row.id, { password, disabled: false, roles });
        else await system.services.users.create({ username, password, roles });
        const generated = o.password === undefined;
        const what = `${username} is a platform admin of ${SYSTEM_TENANT}${row ? '' : ' (created)'}`;
        return {
          text: generated ? `${what}; new password (shown only now): ${password}` : what,
          data: { username, created: !row, ...(generated ? { password } : {}) },
        };
      }
      default: {
        // admin reset-password: a user of `system` (the bootstrap admin by default)
        const username = o.username ?? config.bootstrapAdminUsername;
        const password = o.password ?? randomSecret(18);
        const system = await tenant(SYSTEM_TENANT);
        const row = await system.repos.users.findByUsername(username);
        if (!row) throw new AppError('not_found', `no user "${username}" in tenant ${SYSTEM_TENANT}`);
        await system.services.users.update(row.id, { password, disabled: false });
        const generated = o.password === undefined;
        return {
          text: generated ? `password of ${username} reset; new password (shown only now): ${password}` : `password of ${username} reset`,
          data: { username, ...(generated ? { password } : {}) },
        };
      }
    }
  } finally {
    await core.db.close();
    core.revocationMirror.close();
    // running servers learn about the change through Redis pub/sub, as if an instance had made it
    if (!(await core.events.settled())) {
      process.stderr.write('tessera: warning: running servers were not notified (Redis unreachable); they pick the change up when their cache is rebuilt\n');
    }
    await store.close();
  }
}
