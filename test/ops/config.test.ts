/** CONTRACT §1: configuration from the environment, one clear line and exit 78 on a bad value. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, publicUrl: 'http://localhost:3000', dataDir: './.data', logLevel: 'info', bootstrapAdminUsername: 'admin' });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(c).toMatchObject({ consoleIdleTimeout: 900, consoleSessionMax: 28_800 });
    expect(loadConfig({ CONSOLE_IDLE_TIMEOUT: '120', CONSOLE_SESSION_MAX: '3600' })).toMatchObject({ consoleIdleTimeout: 120, consoleSessionMax: 3600 });
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://id.example.org/' }).publicUrl).toBe('https://id.example.org');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgresql://localhost/db' }, 'KEY_ENCRYPTION_KEY'],
    [{ DATABASE_URL: 'postgresql://localhost/db', KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'KEY_ENCRYPTION_KEY'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BOOTSTRAP_ADMIN_PASSWORD: 'short' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
    [{ BOOTSTRAP_ADMIN_PASSWORD: 'password1' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
    [{ BOOTSTRAP_ADMIN_USERNAME: 'ad\u0000min' }, 'BOOTSTRAP_ADMIN_USERNAME'],
    [{ TRUST_PROXY_HOPS: '0' }, 'TRUST_PROXY_HOPS'],
    [{ REFRESH_TOKEN_REUSE_INTERVAL: '61' }, 'REFRESH_TOKEN_REUSE_INTERVAL'],
    [{ CONSOLE_IDLE_TIMEOUT: '59' }, 'CONSOLE_IDLE_TIMEOUT'],
    [{ CONSOLE_SESSION_MAX: 'forever' }, 'CONSOLE_SESSION_MAX'],
  ])('rejects %j naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('accepts a valid PostgreSQL configuration', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const c = loadConfig({ DATABASE_URL: 'postgresql://u@h:5432/db', KEY_ENCRYPTION_KEY: key, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(c.keyEncryptionKey?.length).toBe(32);
  });
});

describe('start-up with a bad value', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ BOOTSTRAP_ADMIN_PASSWORD: 'qwertyuiop' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
  ])('%j stops the process with one line and exit code 78', (env, variable) => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(78);
    const lines = res.stderr.split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(res.stdout).toBe('');
  });
});
