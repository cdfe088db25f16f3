/**
 * The composition root: config → database (migrated) → repositories → services → tenant pool →
 * Koa server. main.ts runs it as a process; tests start it in-process and speak HTTP to it.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminRouter } from './admin/index.ts';
import { createConsole } from './console/index.ts';
import { bootstrap, type BootstrapResult } from './bootstrap.ts';
import type { Config } from './config/index.ts';
import { createHealth } from './observability/health.ts';
import { createLogger, observeErrorLogs, type Logger } from './observability/log.ts';
import { createMetrics } from './observability/metrics.ts';
import { observeStore } from './observability/store.ts';
import { pruneAuditEvents } from './repositories/audit.ts';
import { scheduleAuditRetention } from './services/audit.ts';
import { sweepExpired } from './repositories/artifacts.ts';
import { createLoginGuard } from './security/login-guard.ts';
import { openCore, type Core } from './core.ts';
import { monitorDatabase } from './db/monitor.ts';
import type { Database } from './db/database.ts';
import { createServer, drainHttpServer } from './server.ts';
import { createHttpObserver } from './observability/http.ts';
import { startingHandler } from './observability/starting.ts';
import type { Services } from './services/index.ts';
import { createTenantPool, type TenantPool } from './tenants/pool.ts';
import { createStore, type Store } from './store/index.ts';
import { createTenantContext } from './tenants/context.ts';
import { serveTenant, type ServingDeps } from './tenants/serve.ts';
import { usernameKey } from './security/usernames.ts';

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

const STORE_WAIT_MS = 5_000;

/** true once the store answers a ping, false when it has not within `ms` */
async function storeAnswers(store: Store, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await store.ping();
      return true;
    } catch {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function startTessera(config: Config, opts: { log?: Logger } = {}): Promise<Tessera> {
  const log = opts.log ?? createLogger(config);
  // No request may hang on an accepted connection while the server starts. With a fixed port the
  // port is opened only once the server is ready (until then a connection is refused at once, and
  // a cluster worker's siblings serve the port): opening the embedded database and migrating it
  // block the event loop for seconds, so an open port could not even answer "starting". With
  // PORT=0 (tests) the port is bound first, since the public URL is only known once it is, and
  // anything that arrives meanwhile is answered 503 at once (observability/starting.ts).
  let handle = startingHandler();
  const http = createHttpServer((req, res) => handle(req, res));
  const bindLate = config.port !== 0;
  const port = bindLate ? config.port : await listen(http, config.port);
  const publicUrl = config.publicUrlExplicit ? config.publicUrl : `http://localhost:${port}`;

  const metrics = createMetrics();
  // Redis errors are counted wherever they happen (rate limits, caches, pub/sub, readiness)
  const store = observeStore(createStore(config.redisUrl, { cluster: config.redisCluster }), () => metrics.dependencyError('redis'));
  const guard = createLoginGuard(store);
  let core: Core;
  try {
    core = await openCore(config, publicUrl, store);
  } catch (err) {
    http.close();
    await store.close();
    throw err;
  }
  const { db, repos, services, secretBox, passwords, cookieKeys } = core;
  const dbMonitor = monitorDatabase(db);
  if (core.migrationsApplied.length) log.info({ migrations: core.migrationsApplied }, 'migrations applied');
  let sweeper: NodeJS.Timeout | undefined;
  let staleness: NodeJS.Timeout | undefined;
  try {
    const observer = createHttpObserver({ log, metrics });
    const serving: ServingDeps = {
      cookieKeys,
      passwords,
      guard,
      store,
      databaseUp: dbMonitor.isUp,
      onServerError: (err: Error) => log.error({ err: { name: err.name, message: err.message } }, 'oidc server error'),
      pseudonym: (username) => secretBox.pseudonym(usernameKey(username)),
      observe: observer.tenant,
      secretBox,
      revocationMirror: core.revocationMirror,
    };
    const pool = createTenantPool({
      max: config.tenantCacheSize,
      load: async (slug) => {
        const row = await repos.tenants.findBySlug(slug);
        return row && { id: row.id, version: row.version, build: () => serveTenant(createTenantContext(core, row), serving) };
      },
      versions: (ids) => repos.tenants.versions(ids),
      negativeTtlMs: config.tenantCacheMaxStaleness * 1000,
    });
    // a change made through any instance reaches every instance's pool (at once here; through
    // Redis pub/sub elsewhere)
    core.events.listen({ changed: (id) => pool.invalidate(id), created: (slug) => pool.forgetUnknown(slug) }).catch(() => {});
    // pub/sub may lose a message: compare versions at most TENANT_CACHE_MAX_STALENESS apart, and
    // at once when the subscription comes back after a loss
    const refreshPool = () =>
      void pool.refresh().then(
        (dropped) => dropped && log.info({ dropped }, 'tenants changed elsewhere were dropped from the cache'),
        (err: Error) => {
          metrics.observeError(err);
          log.warn({ err: { name: err.name, message: err.message } }, 'tenant version check failed');
        },
      );
    store.onResubscribed(refreshPool);

    const boot = await bootstrap({
      db,
      repos,
      services,
      passwords,
      username: config.bootstrapAdminUsername,
      password: config.bootstrapAdminPassword,
    });

    if (boot.noPlatformAdmin) {
      log.warn(
        { username: config.bootstrapAdminUsername },
        'no platform admin exists and a user with the bootstrap username is not one: it is left as it is; run `tessera admin recover` to make a platform admin',
      );
    }
    const adminLog = observeErrorLogs(log, metrics.observeError);
    const { router: admin } = createAdminRouter({
      publicUrl,
      services,
      pool,
      contextOf: (slug) => core.tenant(slug),
      databaseUp: dbMonitor.isUp,
      log: adminLog,
    });
    const adminConsole = createConsole({
      publicUrl,
      pool,
      services,
      store,
      cookieKey: cookieKeys[0]!,
      idleSeconds: config.consoleIdleTimeout,
      maxSeconds: config.consoleSessionMax,
      onServerError: (err: Error) => adminLog.error({ err: { name: err.name, message: err.message } }, 'console error'),
    });
    metrics.observePool(pool.stats);
    const health = createHealth({ db, store, metrics });
    const server = createServer({
      publicUrl,
      pool,
      observer,
      trustProxy: config.trustProxy,
      trustProxyHops: config.trustProxyHops,
      admin,
      console: adminConsole,
      cookieKeys,
      metrics,
      health,
      metricsToken: config.metricsToken,
    });
    // a Redis connection still being made fails every command at once (no offline queue): the
    // first sign-ins would answer 503. Wait for it a little; without it, start degraded (README
    // "Failure behaviour") and say so
    if (!(await storeAnswers(store, STORE_WAIT_MS)))
      log.warn({ waitedMs: STORE_WAIT_MS }, 'Redis does not answer: starting without it (sign-ins answer 503 until it does)');
    handle = server.handle;
    if (bindLate) await listen(http, config.port);
    staleness = setInterval(refreshPool, config.tenantCacheMaxStaleness * 1000);
    staleness.unref();
    sweeper = setInterval(() => {
      sweepExpired(db.prisma).catch((err: Error) => log.warn({ err: { message: err.message } }, 'sweep failed'));
    }, SWEEP_INTERVAL_MS);
    sweeper.unref();
    const retention = scheduleAuditRetention({
      retentionDays: config.auditRetentionDays,
      prune: (before) => pruneAuditEvents(db.prisma, before),
      onPruned: (count) => log.info({ count, retentionDays: config.auditRetentionDays }, 'audit events pruned'),
      onError: (err) => {
        metrics.observeError(err);
        log.warn({ err: { name: err.name, message: err.message } }, 'audit pruning failed');
      },
    });

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
          clearInterval(staleness);
          dbMonitor.stop();
          retention.stop();
          // stop accepting, let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT_SECONDS)
          if (!(await drainHttpServer(http, config.shutdownTimeoutSeconds * 1000))) {
            log.warn({ timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutdown timeout: open connections closed');
          }
          core.revocationMirror.close();
          await db.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    clearInterval(sweeper);
    clearInterval(staleness);
    http.close();
    await db.close().catch(() => {});
    await store.close();
    throw err;
  }
}
