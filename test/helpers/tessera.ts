/**
 * Starts a real Tessera (the same startTessera as `npm start`) on a free port, against a fresh
 * embedded PGlite directory or a fresh PostgreSQL database created from TEST_DATABASE_URL, and
 * removes it afterwards. Every test gets its own database, so files run in parallel.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';

import { requiredUrl, type Backend } from './backends.ts';

export { BACKENDS, requiredUrl, type Backend } from './backends.ts';

export const ADMIN_PASSWORD = 'bootstrap-admin-password';

export interface TestDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

const adminUrl = () => requiredUrl('TEST_DATABASE_URL');

/** a fresh PostgreSQL database (dropped by drop()) */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.href, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** PostgreSQL runs with Redis as the store (TEST_REDIS_URL); PGlite with the in-process store */
export function storeEnv(backend: Backend): Record<string, string> {
  return backend === 'postgres' ? { REDIS_URL: requiredUrl('TEST_REDIS_URL') } : {};
}

/** a fresh DATA_DIR for the embedded database (removed by drop()) */
export async function createPgliteDirectory(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-test-'));
  return { env: { DATA_DIR: dir }, drop: () => rm(dir, { recursive: true, force: true }) };
}

export function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  return backend === 'postgres' ? createPostgresDatabase() : createPgliteDirectory();
}

/** cheap argon2 parameters keep the suite fast; production defaults are tested in their own file */
export const TEST_ENV = {
  PORT: '0',
  LOG_LEVEL: 'silent',
  BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
};

export interface TestServer {
  tessera: Tessera;
  url: string;
  database: TestDatabase;
  stop(): Promise<void>;
}

export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer> {
  const database = await createTestDatabase(backend);
  try {
    const tessera = await startTessera(loadConfig({ ...TEST_ENV, ...database.env, ...storeEnv(backend), ...env }));
    return {
      tessera,
      url: tessera.publicUrl,
      database,
      async stop() {
        await tessera.close();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
}
