/**
 * Liveness and readiness. `/healthz` says the process answers (and which process, so operators
 * and tests can tell cluster workers apart); `/readyz` says this instance can serve: the database
 * answers, every migration on disk is applied, and Redis answers when it is configured. Each check
 * is bounded by a short timeout so a hanging dependency makes the probe fail, not hang. Bodies name
 * the checks and their state only: never URLs, hosts or error messages.
 */
import { readdir } from 'node:fs/promises';
import type { Database } from '../db/database.ts';
import { MIGRATIONS_DIR } from '../db/migrate.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from './metrics.ts';

const CHECK_TIMEOUT_MS = 2000;

export type CheckState = 'ok' | 'unreachable' | 'pending' | 'unknown' | 'not_configured';

export interface Readiness {
  ready: boolean;
  body: { status: 'ready' | 'not_ready'; checks: { database: CheckState; migrations: CheckState; redis: CheckState } };
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function expectedMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
}

export function createHealth(deps: { db: Database; store: Pick<Store, 'kind' | 'ping'>; metrics: Metrics }) {
  let expected: Promise<string[]> | undefined;
  const startedAt = Date.now();

  const migrationsApplied = async (): Promise<boolean> => {
    expected ??= expectedMigrations();
    // Prisma's own history table: finished and not rolled back
    const rows = await deps.db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return (await expected).every((name) => applied.has(name));
  };

  return {
    liveness: () => ({ status: 'ok' as const, pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }),

    async readiness(): Promise<Readiness> {
      const [database, redis] = await Promise.all([
        within(deps.db.ping(), CHECK_TIMEOUT_MS).then(
          (): CheckState => 'ok',
          (): CheckState => {
            deps.metrics.dependencyError('database');
            return 'unreachable';
          },
        ),
        deps.store.kind === 'redis'
          ? within(deps.store.ping(), CHECK_TIMEOUT_MS).then(
              (): CheckState => 'ok',
              (): CheckState => 'unreachable', // counted by the observed store
            )
          : Promise.resolve<CheckState>('not_configured'),
      ]);
      const migrations: CheckState =
        database === 'ok'
          ? await within(migrationsApplied(), CHECK_TIMEOUT_MS).then(
              (ok): CheckState => (ok ? 'ok' : 'pending'),
              (): CheckState => 'unknown',
            )
          : 'unknown';
      const ready = database === 'ok' && migrations === 'ok' && redis !== 'unreachable';
      return { ready, body: { status: ready ? 'ready' : 'not_ready', checks: { database, migrations, redis } } };
    },
  };
}
export type Health = ReturnType<typeof createHealth>;
