// Used only by the stock Prisma CLI (`prisma generate`). Tessera itself connects through driver
// adapters and applies migrations with the WebAssembly schema engine (src/db/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
