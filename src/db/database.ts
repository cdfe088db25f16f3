/**
 * The process-wide database: a Prisma client over PostgreSQL (DATABASE_URL) or an embedded PGlite
 * database in DATA_DIR. The only other process-wide singleton is the store (Redis or in-process).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { PrismaClient };
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface Database {
  readonly kind: 'postgresql' | 'pglite';
  readonly prisma: PrismaClient;
  /**
   * a connection for the schema engine, closed by `release`: the engine takes Prisma's
   * session-level advisory lock and relies on the connection closing to drop it
   */
  migrationAdapter(): { factory: SqlMigrationAwareDriverAdapterFactory; release(): Promise<void> };
  /** runs `fn` while holding a session-level advisory lock (serialises migrations and bootstrap across processes) */
  withLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /** a cheap round trip, for readiness checks */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL pool size per process */
  poolSize?: number;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? 10) : openPglite(opts.dataDir);
}

function openPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // an idle client losing its connection must not crash the process; the pool replaces it
  pool.on('error', () => {});
  const adapterFactory = new PrismaPg(pool);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    kind: 'postgresql',
    prisma,
    migrationAdapter() {
      const own = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
      own.on('error', () => {});
      return { factory: new PrismaPg(own), release: () => own.end().catch(() => {}) };
    },
    async withLock(key, fn) {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [key]);
        try {
          return await fn();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = join(dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const adapterFactory = new PrismaPGlite(db);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    kind: 'pglite',
    prisma,
    migrationAdapter: () => ({ factory: adapterFactory, release: async () => {} }),
    // PGlite is one connection inside this process: only one process can open DATA_DIR, and
    // PGlite serialises queries, so the lock is a no-op beyond running fn.
    withLock: (_key, fn) => fn(),
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}
