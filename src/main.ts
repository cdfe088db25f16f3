/**
 * The process: configuration (exit 78 on a bad value), start, print a generated admin password
 * once, stop gracefully on SIGTERM/SIGINT.
 */
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
const { startTessera } = await import('./app.ts');
const { createLogger } = await import('./observability/log.ts');
const log = createLogger(config);
try {
  const tessera = await startTessera(config, { log });
  if (tessera.bootstrap.generatedPassword) {
    // printed once, on purpose, outside the logs; never stored in clear
    process.stdout.write(
      `\n  First run: platform admin "${config.bootstrapAdminUsername}" created in tenant "system".\n` +
        `  Generated password (shown only now): ${tessera.bootstrap.generatedPassword}\n\n`,
    );
  }
  log.info({ publicUrl: tessera.publicUrl, port: tessera.port, database: tessera.db.kind }, 'tessera listening');
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    tessera.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err: { message: (err as Error).message, name: (err as Error).name } }, 'start-up failed');
  process.exit(1);
}
