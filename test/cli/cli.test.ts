/** The operator CLI (`npx tessera …`), run as a child process on the same data as the server. */
import { spawnSync } from 'node:child_process';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { ROOT, freePort, runCli } from '../helpers/process.ts';
import { TEST_ENV, createPgliteDirectory, type TestDatabase } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';

describe('tessera CLI', () => {
  let db: TestDatabase;
  let env: Record<string, string>;

  const cli = (...args: string[]) => runCli(env, ...args);
  const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, string>;

  beforeAll(async () => {
    db = await createPgliteDirectory();
    const port = await freePort();
    env = { ...TEST_ENV, ...db.env, PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, BOOTSTRAP_ADMIN_PASSWORD: '' };
  });
  afterAll(() => db?.drop());

  it('creates tenants, users and clients, rotates keys, with --json output', () => {
    const t = cli('tenant', 'create', 'cli-dept', '--name', 'CLI Department', '--alg', 'EdDSA', '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(json(t)).toMatchObject({ slug: 'cli-dept', issuer: `${env.PUBLIC_URL}/t/cli-dept` });

    const u = cli('user', 'create', 'cli-dept', 'opal', '--password', 'opal-password-1', '--role', 'tenant-admin', '--json');
    expect(u.code, u.stderr).toBe(0);
    expect(json(u)).toMatchObject({ username: 'opal', temporaryPassword: false });

    const c = cli(
      'client',
      'create',
      'cli-dept',
      '--name',
      'ops job',
      '--grant',
      'client_credentials',
      '--role',
      'tenant-admin',
      '--default-resource',
      `${env.PUBLIC_URL}/admin`,
      '--json',
    );
    expect(c.code, c.stderr).toBe(0);
    expect(json(c).clientSecret).toBeTruthy();
    env.CLIENT_ID = json(c).clientId!;
    env.CLIENT_SECRET = json(c).clientSecret!;

    const k = cli('keys', 'rotate', 'cli-dept', '--json');
    expect(k.code, k.stderr).toBe(0);
    env.KID = json(k).kid!;

    const human = cli('client', 'create', 'cli-dept', '--name', 'spa', '--grant', 'authorization_code', '--redirect-uri', 'https://spa.example/cb', '--public');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/created public client/);
    // six CLI processes one after another (each starts Node, opens the database): on a loaded
    // 2-core machine with three test workers this took over a minute
  }, 180_000);

  it('creates a user with a temporary password (onboarding)', () => {
    const newcomer = cli('user', 'create', 'cli-dept', 'nell', '--password', 'nell-first-password', '--temporary-password', '--json');
    expect(newcomer.code, newcomer.stderr).toBe(0);
    expect(JSON.parse(newcomer.stdout)).toMatchObject({ username: 'nell', temporaryPassword: true, mfa: { totp: false, passkeys: 0, recoveryCodesLeft: 0 } });
  });

  it('fails clearly with non-zero exit codes', () => {
    const dup = cli('tenant', 'create', 'cli-dept', '--name', 'again');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');
    const unknown = cli('keys', 'rotate', 'no-such-tenant', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: 'not_found' });
    const usage = cli('frobnicate');
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('usage:');
    const missing = cli('user', 'create', 'cli-dept', 'no-password');
    expect(missing.code).toBe(64);
    const badConfig = spawnSync(process.execPath, ['bin/tessera.mjs', 'keys', 'rotate', 'x'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'mysql://nope' },
      encoding: 'utf8',
    });
    expect(badConfig.status).toBe(78);
    expect(badConfig.stderr).toContain('DATABASE_URL');
  });

  it('lists every admin call in --help, and explains each command without needing a configuration', async () => {
    const { COMMANDS } = await import('../../src/cli/commands.ts');
    const noConfig = { DATABASE_URL: 'mysql://nope' };
    const all = runCli(noConfig, '--help');
    expect(all.code, all.stderr).toBe(0);
    for (const c of COMMANDS) expect(all.stdout).toContain(`tessera ${c.words.join(' ')}`);
    expect(all.stdout).toContain('tessera admin recover');
    const one = runCli(noConfig, 'client', 'update', '--help');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^usage: tessera client update <tenant> <client-id> \[options\]$/m);
    expect(one.stdout).toMatch(/^ {2}--rate-limit-per-hour +<number\|null>$/m);
    expect(one.stdout).toMatch(/^ {2}--no-disabled +sets disabled to false$/m);
    expect(one.stdout).toMatch(/^ {2}--grant-type +<client_credentials\|password\|refresh_token\|authorization_code> \(repeatable\)$/m);
  });

  it('names the option behind a refusal, in words and in --json', () => {
    const short = cli('user', 'create', 'cli-dept', 'pia', '--password', 'short');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^tessera: the body is invalid\n {2}--password: .*8/);
    const asJson = cli('tenant', 'update', 'cli-dept', '--mfa-require', 'sometimes', '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: 'invalid_request', errors: [{ path: 'mfa.require', option: '--mfa-require' }] });
  });

  it('resets the platform admin password, and the server honours all of it', async () => {
    // first server start bootstraps `system` (with a generated password nobody kept)
    let server = await startTessera(loadConfig(env));
    await server.close();
    const reset = cli('admin', 'reset-password', '--json');
    expect(reset.code, reset.stderr).toBe(0);
    const password = json(reset).password!;
    expect(password.length).toBeGreaterThan(12);

    server = await startTessera(loadConfig(env));
    try {
      const sys = await discover(server.publicUrl, 'system');
      const admin = await tokenRequest(sys.token_endpoint!, { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password });
      expect(admin.status).toBe(200);
      const dept = await discover(server.publicUrl, 'cli-dept');
      const cc = await tokenRequest(dept.token_endpoint!, { grant_type: 'client_credentials' }, { clientId: env.CLIENT_ID!, clientSecret: env.CLIENT_SECRET! });
      expect(cc.status).toBe(200);
      expect(decodeJwt(cc.body.access_token as string)).toMatchObject({ roles: ['tenant-admin'], tenant_id: 'cli-dept' });
      const { decodeProtectedHeader } = await import('jose');
      expect(decodeProtectedHeader(cc.body.access_token as string)).toMatchObject({ alg: 'EdDSA', kid: env.KID });
      const staff = await tokenRequest(dept.token_endpoint!, { grant_type: 'password', client_id: 'admin-cli', username: 'opal', password: 'opal-password-1' });
      expect(staff.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
