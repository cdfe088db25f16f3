/**
 * Issue 18: the CLI reaches every admin call. Each command line goes through the same pipeline as
 * the admin API (validation, policy, services, audit) on one opened core, on PGlite and on
 * PostgreSQL: every collection listed, read, created, updated and deleted; secret rotation; key
 * rotation; the audit query with filters; errors that name the option. (The process itself —
 * exit codes, --help without configuration — is test/cli/cli.test.ts's.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, runAdmin } from '../../src/cli/commands.ts';
import { loadConfig } from '../../src/config/index.ts';
import { openCore, type Core } from '../../src/core.ts';
import { AppError } from '../../src/errors.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { BACKENDS, TEST_ENV, createTestDatabase, type TestDatabase } from '../helpers/tessera.ts';

const API = 'https://epi.example/api';

describe.each(BACKENDS)('every admin call from the CLI (%s)', (backend) => {
  let db: TestDatabase;
  let core: Core;
  const store = createMemoryStore();
  const T = 'cli-admin';

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    core = await openCore(loadConfig({ ...TEST_ENV, ...db.env, PUBLIC_URL: 'http://localhost:1' }), 'http://localhost:1', store);
  });
  afterAll(async () => {
    await core?.db.close();
    core?.revocationMirror.close();
    await store.close();
    await db?.drop();
  });

  /** one command line, as `tessera …` runs it */
  async function run(...argv: string[]): Promise<{ text: string; data: Record<string, unknown> }> {
    const parsed = parseCommandLine(argv);
    if (parsed.kind !== 'admin') throw new Error(`not an admin command: ${argv.join(' ')}`);
    const r = await runAdmin(core, parsed.command, parsed.invocation);
    return { text: r.text, data: r.data as Record<string, unknown> };
  }
  async function refused(...argv: string[]): Promise<AppError> {
    try {
      await run(...argv);
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error(`accepted: ${argv.join(' ')}`);
  }
  const items = (r: { data: Record<string, unknown> }) => r.data.items as Record<string, unknown>[];

  it('tenants: create (with its first admin), list, get, update the MFA policy', async () => {
    const created = await run('tenant', 'create', T, '--name', 'CLI Admin', '--admin-username', 'boss', '--admin-password', 'boss-password-1');
    expect(created.text).toBe(`created tenant ${T} (issuer http://localhost:1/t/${T})`);
    expect(items(await run('tenant', 'list')).map((t) => t.slug)).toContain(T);
    expect((await run('tenant', 'get', T)).data).toMatchObject({ slug: T, name: 'CLI Admin', mfa: { require: 'none', roles: [] } });
    const renamed = await run('tenant', 'update', T, '--name', 'CLI Administration');
    expect(renamed.text).toMatch(/^slug: +cli-admin$/m);
    expect(renamed.text).toMatch(/^name: +CLI Administration$/m);
  });

  it('resources, roles, users and clients: list, get, create, update, delete; secret and key rotation; the audit query', async () => {
    // resources
    const resource = await run(
      'resource',
      'create',
      T,
      '--audience',
      API,
      '--name',
      'Epidemic model',
      '--scope',
      'simulate:run',
      '--scope',
      'outbreaks:read',
      '--access-token-ttl',
      '600',
    );
    const resourceId = resource.data.id as string;
    expect(resource.data).toMatchObject({ audience: API, scopes: ['simulate:run', 'outbreaks:read'], accessTokenTtl: 600 });
    expect((await run('resource', 'update', T, resourceId, '--access-token-ttl', '900')).data.accessTokenTtl).toBe(900);
    expect((await run('resource', 'get', T, resourceId)).data.name).toBe('Epidemic model');
    const resources = await run('resource', 'list', T);
    expect(items(resources).map((r) => r.audience)).toContain(API);
    // a list reads as a table: a header, one line per item
    expect(resources.text.split('\n')[0]).toMatch(/^id +audience +name +scopes +accessTokenTtl +builtIn$/);
    expect(resources.text).toContain('simulate:run,outbreaks:read');

    // roles (a permission is one JSON object per option)
    await run('role', 'create', T, '--name', 'analyst', '--permission', JSON.stringify({ resource: API, scope: 'simulate:run' }));
    await run('role', 'update', T, 'analyst', '--description', 'Runs models');
    expect((await run('role', 'get', T, 'analyst')).data).toMatchObject({
      name: 'analyst',
      description: 'Runs models',
      permissions: [{ resource: API, scope: 'simulate:run' }],
    });
    await run('role', 'create', T, '--name', 'viewer');
    expect(items(await run('role', 'list', T)).map((r) => r.name)).toEqual(expect.arrayContaining(['analyst', 'viewer', 'tenant-admin']));

    // the MFA policy names a role that must exist
    const policy = await run('tenant', 'update', T, '--mfa-require', 'roles', '--mfa-role', 'analyst', '--json');
    expect(policy.data.mfa).toEqual({ require: 'roles', roles: ['analyst'] });

    // users
    const user = await run(
      'user',
      'create',
      T,
      'ann',
      '--password',
      'ann-password-1',
      '--role',
      'analyst',
      '--email',
      'ann@example.org',
      '--temporary-password',
    );
    const userId = user.data.id as string;
    expect(user.text).toBe(`created user ann (${userId}) with roles [analyst]`);
    await run('user', 'create', T, 'bob', '--password', 'bob-password-1');
    const firstPage = await run('user', 'list', T, '--limit', '1');
    expect(items(firstPage)).toHaveLength(1);
    expect(firstPage.text).toContain(`more: tessera user list … --cursor=${firstPage.data.nextCursor as string}`);
    const secondPage = await run('user', 'list', T, '--limit', '1', `--cursor=${firstPage.data.nextCursor as string}`);
    expect(items(secondPage)[0]!.id).not.toBe(items(firstPage)[0]!.id);
    expect((await run('user', 'update', T, userId, '--disabled')).data).toMatchObject({ disabled: true });
    expect((await run('user', 'update', T, userId, '--no-disabled', '--role', 'analyst', '--role', 'viewer')).data).toMatchObject({
      disabled: false,
      roles: ['analyst', 'viewer'],
    });
    expect((await run('user', 'get', T, userId)).data).toMatchObject({
      username: 'ann',
      temporaryPassword: true,
      mfa: { totp: false, passkeys: 0, recoveryCodesLeft: 0 },
    });
    expect((await run('user', 'mfa-reset', T, userId)).text).toMatch(/: done$/);

    // clients
    const client = await run('client', 'create', T, '--name', 'nightly', '--grant', 'client_credentials', '--role', 'analyst', '--default-resource', API);
    const clientId = client.data.clientId as string;
    expect(client.text).toBe(`created client ${clientId}\nclient secret (shown only now): ${client.data.clientSecret as string}`);
    const rotated = await run('client', 'rotate-secret', T, clientId);
    expect(rotated.data.clientSecret).not.toBe(client.data.clientSecret);
    expect(rotated.text).toMatch(/^client secret \(shown only now\): \S+\nthe previous secret keeps working until \d{4}-/);
    expect((await run('client', 'update', T, clientId, '--rate-limit-per-hour', '100')).data.rateLimitPerHour).toBe(100);
    expect((await run('client', 'update', T, clientId, '--rate-limit-per-hour', 'null')).data.rateLimitPerHour).toBeNull();
    // the secret is never shown again
    const shown = await run('client', 'get', T, clientId);
    expect(shown.data).toMatchObject({ clientId, name: 'nightly', grantTypes: ['client_credentials'] });
    expect(JSON.stringify(shown.data)).not.toContain(rotated.data.clientSecret as string);
    expect(items(await run('client', 'list', T)).map((c) => c.clientId)).toContain(clientId);

    // keys
    const before = items(await run('keys', 'list', T));
    const { data: key, text } = await run('keys', 'rotate', T);
    expect(text).toBe(`tenant ${T} now signs with ${key.kid as string}`);
    expect(items(await run('keys', 'list', T)).map((k) => k.kid)).toEqual(expect.arrayContaining([...before.map((k) => k.kid), key.kid]));

    // deletes
    for (const argv of [
      ['user', 'delete', T, userId],
      ['client', 'delete', T, clientId],
      ['role', 'delete', T, 'viewer'],
    ]) {
      const r = await run(...argv);
      expect(r.text).toMatch(/: done$/);
      expect(r.data).toBeNull();
    }
    expect((await refused('user', 'get', T, userId)).code).toBe('not_found');

    // the audit query with filters: every change above was recorded with the operator as the actor
    const audit = await run('audit', 'list', T, '--type', 'user.created,user.deleted,client.secret_rotated', '--actor', 'system');
    expect(items(audit).map((e) => e.type)).toEqual(['user.deleted', 'client.secret_rotated', 'user.created', 'user.created']);
    expect(items(audit).every((e) => e.actor === 'system')).toBe(true);
    const since = new Date(Date.now() + 60_000).toISOString();
    expect(items(await run('audit', 'list', T, '--from', since))).toEqual([]);
  });

  it('refuses what the admin API refuses, naming the option', async () => {
    const invalid = await refused('tenant', 'update', T, '--mfa-require', 'roles', '--mfa-role', 'no-such-role');
    expect(invalid.code).toBe('invalid_request');
    const badEmail = await refused('user', 'create', T, 'cy', '--password', 'cy-password-1', '--email', 'not-an-email');
    expect(badEmail.code).toBe('invalid_request');
    expect(badEmail.details?.errors).toEqual([expect.objectContaining({ path: 'email' })]);
    expect((await refused('user', 'create', T, 'bob', '--password', 'bob-password-2')).code).toBe('conflict');
    expect((await refused('keys', 'rotate', 'no-such-tenant')).code).toBe('not_found');
    expect((await refused('user', 'get', T, 'not-a-uuid\u0000')).code).toBe('not_found');
  });
});
