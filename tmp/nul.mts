import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import pg from 'pg';
for (const kind of ['pglite', 'pg']) {
  let url: string | undefined;
  if (kind === 'pg') { const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }); await c.connect(); await c.query('DROP DATABASE IF EXISTS nultest'); await c.query('CREATE DATABASE nultest'); await c.end(); url = 'postgresql://postgres@127.0.0.1:5432/nultest'; }
  const db = await openDatabase({ databaseUrl: url, dataDir: '/tmp/nuldata-' + Date.now() });
  await migrate(db);
  for (const [name, fn] of [
    ['findUnique', () => db.prisma.tenant.findUnique({ where: { slug: 'a\u0000b' } })],
    ['raw', () => db.prisma.$queryRaw`SELECT 1 FROM tenants WHERE slug = ${'a\u0000b'}`],
    ['jsonb', () => db.prisma.$executeRaw`SELECT ${JSON.stringify({ a: 'x\u0000' })}::jsonb`],
    ['uuid', () => db.prisma.$queryRaw`SELECT ${'nope'}::uuid`],
  ] as const) {
    try { await fn(); console.log(kind, name, 'ok'); } catch (e) { const err = e as any; console.log(kind, name, err.constructor.name, err.code, err.meta, err.cause?.originalCode, err.cause?.kind, JSON.stringify(Object.keys(err))); }
  }
  await db.close();
}
