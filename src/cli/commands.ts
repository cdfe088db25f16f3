/**
 * The CLI's commands: every admin API call (derived from its route table: admin-commands.ts) and
 * the two recovery commands that exist only here. See main.ts for how a command line is read.
 */
import { parseArgs } from 'node:util';
import { createDispatcher } from '../admin/dispatch.ts';
import { adminRoutes } from '../admin/routes.ts';
import type { Config } from '../config/index.ts';
import { PLATFORM_ADMIN_ROLE, SYSTEM_ACTOR, SYSTEM_TENANT, TENANT_ADMIN_ROLE } from '../contract.ts';
import { openCore, type Core } from '../core.ts';
import { AppError } from '../errors.ts';
import { randomSecret } from '../security/crypto.ts';
import { createStore } from '../store/index.ts';
import { adminCommands, commandUsage, overview, parseInvocation, UsageError, type AdminCommand, type Invocation } from './admin-commands.ts';

export { UsageError };

export const COMMANDS: AdminCommand[] = adminCommands(adminRoutes());

const RECOVERY = [
  'tessera admin reset-password [--username <u>] [--password <p>]   a new password for a user of system (the bootstrap admin by default)',
  'tessera admin recover [--username <u>] [--password <p>]          makes <u> a platform admin of system again (bootstrap never re-grants)',
];
export const USAGE = overview(COMMANDS, RECOVERY);

export interface CommandResult {
  text: string;
  data: unknown;
}

/** what the command line asks for: help, a recovery command, or an admin call */
export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'recovery'; verb: 'reset-password' | 'recover'; username: string | undefined; password: string | undefined; json: boolean }
  | { kind: 'admin'; command: AdminCommand; invocation: Invocation };

export function parseCommandLine(argv: string[], stdin?: () => string): Parsed {
  const [noun, verb] = argv;
  if (noun === undefined || noun === '--help' || noun === '-h') return { kind: 'help', text: USAGE };
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (noun === 'admin' && (verb === 'reset-password' || verb === 'recover')) {
    if (wantsHelp) return { kind: 'help', text: `usage: ${RECOVERY[verb === 'recover' ? 1 : 0]}\n` };
    try {
      const { values, positionals } = parseArgs({
        args: argv.slice(2),
        options: { username: { type: 'string' }, password: { type: 'string' }, json: { type: 'boolean' } },
        allowPositionals: true,
      });
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      return { kind: 'recovery', verb, username: values.username, password: values.password, json: values.json === true };
    } catch (err) {
      throw err instanceof UsageError ? err : new UsageError((err as Error).message);
    }
  }
  const command = COMMANDS.find((c) => c.words[0] === noun && c.words[1] === verb);
  if (!command) throw new UsageError(`unknown command "${[noun, verb].filter(Boolean).join(' ')}"`);
  if (wantsHelp) return { kind: 'help', text: commandUsage(command) };
  return { kind: 'admin', command, invocation: parseInvocation(command, argv.slice(2), stdin) };
}

/** opens the database (and, with REDIS_URL, the servers' Redis) for one command */
export async function withCore<T>(config: Config, fn: (core: Core) => Promise<T>, warn: (line: string) => void): Promise<T> {
  // with REDIS_URL, the servers' Redis: invalidations and revocations reach the running servers
  const store = createStore(config.redisUrl, { offlineQueue: true, cluster: config.redisCluster });
  let core: Core;
  try {
    core = await openCore(config, config.publicUrl, store);
  } catch (err) {
    await store.close();
    throw err;
  }
  try {
    return await fn(core);
  } finally {
    await core.db.close();
    core.revocationMirror.close();
    // running servers learn about the change through Redis pub/sub, as if an instance had made it
    if (!(await core.events.settled())) {
      warn('warning: running servers were not notified (Redis unreachable); they pick the change up when their cache is rebuilt');
    }
    await store.close();
  }
}

/** one admin call through the admin API's pipeline, as the operator */
export async function runAdmin(core: Core, command: AdminCommand, invocation: Invocation) {
  const call = createDispatcher({ services: core.services, tenantFor: (slug) => core.tenant(slug) });
  const result = await call(command.route, SYSTEM_ACTOR, {
    params: invocation.params,
    query: invocation.query,
    body: async () => invocation.body,
  });
  return { text: describe(command, invocation.params, result), data: result ?? null };
}

export async function runRecovery(core: Core, config: Config, r: Parsed & { kind: 'recovery' }): Promise<CommandResult> {
  const system = await core.tenant(SYSTEM_TENANT);
  if (!system) throw new AppError('not_found', `tenant "${SYSTEM_TENANT}" not found`);
  const username = r.username ?? config.bootstrapAdminUsername;
  const password = r.password ?? randomSecret(18);
  const generated = r.password === undefined;
  const row = await system.repos.users.findByUsername(username);
  if (r.verb === 'recover') {
    // the explicit recovery bootstrap never does on its own: make <username> a platform admin
    // of `system` (created when missing), enabled, with a new password (its sessions end)
    const roles = [...new Set([...(row?.roles ?? []), PLATFORM_ADMIN_ROLE, TENANT_ADMIN_ROLE])];
    if (row) await system.services.users.update(row.id, { password, disabled: false, roles });
    else await system.services.users.create({ username, password, roles });
    const what = `${username} is a platform admin of ${SYSTEM_TENANT}${row ? '' : ' (created)'}`;
    return {
      text: generated ? `${what}; new password (shown only now): ${password}` : what,
      data: { username, created: !row, ...(generated ? { password } : {}) },
    };
  }
  if (!row) throw new AppError('not_found', `no user "${username}" in tenant ${SYSTEM_TENANT}`);
  await system.services.users.update(row.id, { password, disabled: false });
  return {
    text: generated ? `password of ${username} reset; new password (shown only now): ${password}` : `password of ${username} reset`,
    data: { username, ...(generated ? { password } : {}) },
  };
}

const scalar = (v: unknown): string =>
  v === null || v === undefined ? '-' : Array.isArray(v) ? v.map(scalar).join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);

function table(items: Record<string, unknown>[]): string {
  if (!items.length) return '(none)';
  const columns = Object.keys(items[0]!).filter((k) => items.every((i) => typeof i[k] !== 'object' || i[k] === null || Array.isArray(i[k])));
  const rows = [columns, ...items.map((i) => columns.map((c) => scalar(i[c])))];
  const widths = columns.map((_, n) => Math.max(...rows.map((r) => r[n]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, n) => cell.padEnd(widths[n]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** the result for a person: a table for a list, `field: value` lines for an object */
function describe(c: AdminCommand, params: Record<string, string>, result: unknown): string {
  const r = (result ?? {}) as Record<string, unknown>;
  switch (c.route.operation) {
    case 'tenant.create':
      return `created tenant ${scalar(r.slug)} (issuer ${scalar(r.issuer)})`;
    case 'user.create':
      return `created user ${scalar(r.username)} (${scalar(r.id)}) with roles [${((r.roles as string[]) ?? []).join(', ')}]`;
    case 'client.create':
      return r.clientSecret
        ? `created client ${scalar(r.clientId)}\nclient secret (shown only now): ${scalar(r.clientSecret)}`
        : `created public client ${scalar(r.clientId)}`;
    case 'client.rotate_secret':
      return `client secret (shown only now): ${scalar(r.clientSecret)}\nthe previous secret keeps working until ${scalar(r.previousSecretExpiresAt)}`;
    case 'keys.rotate':
      return `tenant ${params.t} now signs with ${scalar(r.kid)}`;
  }
  if (result === undefined) return `${c.route.summary}: done`;
  if (Array.isArray(r.items)) {
    const more = r.nextCursor ? `\nmore: tessera ${c.words.join(' ')} … --cursor=${scalar(r.nextCursor)}` : '';
    return `${table(r.items as Record<string, unknown>[])}${more}`;
  }
  const width = Math.max(...Object.keys(r).map((k) => k.length));
  return Object.entries(r)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${scalar(v)}`)
    .join('\n');
}
