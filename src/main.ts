/**
 * The process: configuration (exit 78 on a bad value), start, print a generated admin password
 * once, stop gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests within
 * SHUTDOWN_TIMEOUT_SECONDS, close the database and Redis, exit 0).
 *
 * WEB_CONCURRENCY=N>1 runs N node:cluster workers on one port. The primary applies the migrations
 * once before forking (a broken database fails once, clearly, instead of in N crash-looping
 * workers), then only supervises: it forwards stop signals, waits for the workers, and replaces a
 * worker that dies after it was serving. Bootstrap runs in the workers, under its advisory lock
 * (exactly one creates the admin and prints a generated password). Workers share state through
 * PostgreSQL and Redis; config refuses N>1 without both (see config/index.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { ConfigError, EXIT_CONFIG, loadConfig, type Config } from './config/index.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  throw err;
}

// loaded only after the configuration is valid, so a bad value prints exactly one line
const { createLogger } = await import('./observability/log.ts');
const log = createLogger(config);
const errInfo = (err: unknown) => ({ err: { name: (err as Error).name, message: (err as Error).message } });

if (config.webConcurrency > 1 && cluster.isPrimary) await runPrimary(config.webConcurrency);
else await runServer();

async function runServer(): Promise<void> {
  const { startTessera } = await import('./app.ts');
  try {
    const tessera = await startTessera(config, { log });
    if (tessera.bootstrap.generatedPassword) {
      // printed once, on purpose, outside the logs; never stored in clear
      process.stdout.write(
        `\n  First run: platform admin "${config.bootstrapAdminUsername}" created in tenant "system".\n` +
          `  Generated password (shown only now): ${tessera.bootstrap.generatedPassword}\n\n`,
      );
    }
    log.info({ publicUrl: tessera.publicUrl, port: tessera.port, database: tessera.db.kind, store: tessera.store.kind }, 'tessera listening');
    let stopping = false;
    const stop = (reason: string) => {
      // a second signal (the primary forwarding one the process group already got) changes nothing
      if (stopping) return;
      stopping = true;
      log.info({ reason, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutting down');
      const hard = setTimeout(() => process.exit(1), (config.shutdownTimeoutSeconds + 5) * 1000);
      hard.unref();
      tessera.close().then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error(errInfo(err), 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // a worker whose primary is gone stops too, rather than serve on unsupervised
    if (cluster.isWorker) process.on('disconnect', () => stop('primary gone'));
  } catch (err) {
    log.fatal(errInfo(err), 'start-up failed');
    process.exit(1);
  }
}

async function runPrimary(workers: number): Promise<void> {
  try {
    const { openDatabase } = await import('./db/database.ts');
    const { migrate } = await import('./db/migrate.ts');
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
    try {
      const applied = await migrate(db);
      if (applied.length) log.info({ migrations: applied }, 'migrations applied');
    } finally {
      await db.close();
    }
  } catch (err) {
    log.fatal(errInfo(err), 'start-up failed');
    process.exit(1);
  }

  const serving = new Set<number>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('listening', () => serving.add(worker.id));
    return worker;
  };
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  const stop = (reason: string, code = 0) => {
    failed ||= code !== 0;
    if (stopping) return;
    stopping = true;
    log.info({ reason, workers: alive().length }, 'stopping workers');
    for (const w of alive()) w.process.kill('SIGTERM');
    const hard = setTimeout(
      () => {
        for (const w of alive()) w.process.kill('SIGKILL');
        process.exit(1);
      },
      (config.shutdownTimeoutSeconds + 10) * 1000,
    );
    hard.unref();
    if (!alive().length) process.exit(failed ? 1 : 0);
  };

  cluster.on('exit', (worker, code, signal) => {
    const wasServing = serving.delete(worker.id);
    if (stopping) {
      if (code !== 0 && code !== null) failed = true;
      if (!alive().length) process.exit(failed ? 1 : 0);
      return;
    }
    if (!wasServing) {
      log.fatal({ workerPid: worker.process.pid, exitCode: code, signal }, 'a worker failed to start');
      stop('worker start-up failed', 1);
      return;
    }
    // a serving worker died: replace it, unless workers keep dying (then something is wrong)
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > 5) {
      log.fatal({ restarts: restarts.length }, 'workers keep dying; giving up');
      stop('workers keep dying', 1);
      return;
    }
    log.error({ workerPid: worker.process.pid, exitCode: code, signal }, 'worker died; starting a new one');
    fork();
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info({ workers }, 'starting workers');
  for (let i = 0; i < workers; i++) fork();
}
