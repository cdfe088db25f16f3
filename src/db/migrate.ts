/**
 * Applies prisma/migrations with Prisma's WebAssembly schema engine, under an advisory lock so
 * that several processes starting at once apply each migration exactly once. Prisma records
 * them in `_prisma_migrations`, so `prisma migrate deploy` keeps working on the same database.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';
import { createSchemaEngine } from './schema-engine.ts';

export const PRISMA_DIR = fileURLToPath(new URL('../../prisma/', import.meta.url));
export const MIGRATIONS_DIR = join(PRISMA_DIR, 'migrations');
/** our own lock key; Prisma's engine may take its own (72707369) on another connection */
export const MIGRATION_LOCK_KEY = 0x7e55e2a;

const noFilters = { externalTables: [], externalEnums: [] };

export async function readMigrationsList() {
  const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const lockfile = await readFile(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8');
  return {
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') },
        },
      })),
    ),
    shadowDbInitScript: '',
  };
}

export function readSchema(): Promise<string> {
  return readFile(join(PRISMA_DIR, 'schema.prisma'), 'utf8');
}

/** Applies pending migrations; returns the names applied now. */
export async function migrate(db: Database): Promise<string[]> {
  const [schema, migrationsList] = await Promise.all([readSchema(), readMigrationsList()]);
  return db.withLock(MIGRATION_LOCK_KEY, async () => {
    const adapter = db.migrationAdapter();
    try {
      const engine = await createSchemaEngine(schema, adapter.factory);
      try {
        const result = await engine.applyMigrations({ migrationsList, filters: noFilters });
        return result.appliedMigrationNames;
      } finally {
        engine.free();
      }
    } finally {
      await adapter.release();
    }
  });
}
