/**
 * `npm run db:migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with
 * the difference between the existing migrations and prisma/schema.prisma. Works offline: the
 * WebAssembly schema engine replays the migrations into an in-memory PGlite shadow database.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { createSchemaEngine } from '../db/schema-engine.ts';
import { MIGRATIONS_DIR, readMigrationsList, readSchema } from '../db/migrate.ts';

const name = (process.argv[2] ?? '').trim();
const schema = await readSchema();
const shadow = await PGlite.create();
const engine = await createSchemaEngine(schema, new PrismaPGlite(shadow));
const migrationsList = await readMigrationsList();
const from = migrationsList.migrationDirectories.length ? { tag: 'migrations' as const, ...migrationsList } : { tag: 'empty' as const };
const { stdout } = await engine.diff({
  from,
  to: { tag: 'schemaDatamodel', files: [{ path: 'prisma/schema.prisma', content: schema }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
await shadow.close();
const sql = (stdout ?? '').trim();
if (!sql || /^-- This is an empty migration\.?$/.test(sql)) {
  console.log('schema and migrations agree: nothing to do');
  process.exit(0);
}
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name>   (lower-case letters, digits and _)');
  process.exit(64);
}
if (process.env.TESSERA_MIGRATION_DRY_RUN === '1') {
  console.log(`schema and migrations differ:\n${sql}`);
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'migration.sql'), `${sql}\n`);
console.log(`created ${dir}/migration.sql`);
