/**
 * The composition root: config → database (migrated) → repositories → services → tenant pool →
 * Koa server. main.ts runs it as a process; tests start it in-process and speak HTTP to it.
 */
import { hkdfSync } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminRouter } from './admin/index.ts';
import { bootstrap, type BootstrapResult } from './bootstrap.ts';
import type { Config } from './config/index.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createLogger, type Logger } from './observability/log.ts';
import { sweepExpired } from './repositories/artifacts.ts';
import { createRepositories } from './repositories/index.ts';
import { createSecretBox } from './security/crypto.ts';
import { resolveKeyEncryptionKey } from './security/kek.ts';
import { createPasswordHasher } from './security/passwords.ts';
import { createLoginGuard } from './security/login-guard.ts';
import { createWorkLimiter } from './security/work-limiter.ts';
import { createServer } from './server.ts';
import { createStore, type Store } from './store/index.ts';
import { createServices, type Services } from './services/index.ts';
import { createTenantPool, type TenantPool } from './tenants/pool.ts';
import { buildTenant } from './tenants/tenant.ts';

export interface Tessera {
  readonly config: Config;
  readonly publicUrl: string;
  readonly port: number;
  readonly db: Database;
  readonly store: Store;
  readonly services: Services;
  readonly pool: TenantPool;
  readonly bootstrap: BootstrapResult;
  readonly server: Server;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 10 * 60_000;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startTessera(config: Config, opts: { log?: Logger } = {}): Promise<Tessera> {
  const log = opts.log ?? createLogger(config);
  // bind first: with PORT=0 (tests) the public URL is only known once the port is
  const http = createHttpServer();
  const port = await listen(http, config.port);
  const publicUrl = config.publicUrlExplicit ? config.publicUrl : `http://localhost:${port}`;

  const kek = await resolveKeyEncryptionKey(config);
  const secretBox = createSecretBox(kek);
  const cookieKeys = [Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera/cookie-keys', 32)).toString('base64url')];
  const passwords = createPasswordHasher(
    config.argon2,
    createWorkLimiter({ concurrency: config.passwordHashConcurrency, queue: config.passwordHashQueue }),
  );
  const store = createStore(config.redisUrl);
  const guard = createLoginGuard(store);

  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let sweeper: NodeJS.Timeout | undefined;
  try {
    const applied = await migrate(db);
    if (applied.length) log.info({ migrations: applied }, 'migrations applied');

    const repos = createRepositories(db.prisma);
    let pool: TenantPool | undefined;
    const services = createServices({
      repos,
      secretBox,
      passwords,
      publicUrl,
      clientSecretGraceSeconds: config.clientSecretGraceSeconds,
      onTenantChanged: (tenantId) => pool?.invalidate(tenantId),
      onTenantCreated: (slug) => pool?.forgetUnknown(slug),
    });
    const tenantDeps = {
      repos,
      secretBox,
      publicUrl,
      cookieKeys,
      passwords,
      guard,
      refreshTokenAbsoluteTtl: config.refreshTokenAbsoluteTtl,
      refreshTokenIdleTtl: config.refreshTokenIdleTtl,
      onServerError: (err: Error) => log.error({ err: { name: err.name, message: err.message } }, 'oidc server error'),
    };
    pool = createTenantPool({
      max: config.tenantCacheSize,
      load: async (slug) => {
        const row = await repos.tenants.findBySlug(slug);
        return row && { id: row.id, build: () => buildTenant(tenantDeps, row) };
      },
    });

    const boot = await bootstrap({
      db,
      repos,
      services,
      passwords,
      username: config.bootstrapAdminUsername,
      password: config.bootstrapAdminPassword,
    });

    const { router: admin } = createAdminRouter({ publicUrl, services, repos, pool, log });
    const app = createServer({ publicUrl, pool, db, log, trustProxy: config.trustProxy, admin });
    http.on('request', app.callback());
    sweeper = setInterval(() => {
      sweepExpired(db.prisma).catch((err: Error) => log.warn({ err: { message: err.message } }, 'sweep failed'));
    }, SWEEP_INTERVAL_MS);
    sweeper.unref();

    let closing: Promise<void> | undefined;
    return {
      config,
      publicUrl,
      port,
      db,
      store,
      services,
      pool,
      bootstrap: boot,
      server: http,
      close() {
        closing ??= (async () => {
          clearInterval(sweeper);
          await new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeIdleConnections();
          });
          await db.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    clearInterval(sweeper);
    http.close();
    await db.close().catch(() => {});
    await store.close();
    throw err;
  }
}
