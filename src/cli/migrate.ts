/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
import { ConfigError, EXIT_CONFIG, loadConfig } from '../config/index.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';

try {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.close();
  }
  process.exit(0);
} catch (err) {
  console.error(`tessera: ${(err as Error).message}`);
  process.exit(err instanceof ConfigError ? EXIT_CONFIG : 1);
}
