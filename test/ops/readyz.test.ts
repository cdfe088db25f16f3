/**
 * README promises (Operations → Health; Upgrading): `/readyz` answers 503 `not_ready` naming the
 * failing check when the database lacks a migration this instance expects (`"migrations":
 * "pending"`) or Redis is unreachable (`"redis":"unreachable"`), and 200 `ready` again once it is
 * fixed; bodies name checks and states only.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrate.ts';
import { privateRedis, type PrivateRedis } from '../helpers/infra.ts';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/tessera.ts';
import { eventually, requiredUrl } from '../helpers/department.ts';

async function readyz(base: string): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const res = await fetch(`${base}/readyz`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, text, headers: res.headers };
}

describe.each(BACKENDS)('/readyz with a pending migration on %s', (backend) => {
  let server: TestServer;
  let base: string;
  let last: string;
  const redis = backend === 'postgres' ? 'ok' : 'not_configured';
  beforeAll(async () => {
    server = await startTestServer(backend);
    base = `http://127.0.0.1:${server.tessera.port}`;
    const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    last = names.at(-1)!;
    expect(names.length).toBeGreaterThan(1);
  });
  afterAll(() => server?.stop());

  // README (Health): "`GET /readyz` | `200 {"status":"ready","checks":{"database":"ok","migrations":"ok","redis":"ok"}}`
  // when the database answers, every migration is applied and Redis (when configured; else
  // `"not_configured"`) answers; otherwise `503` with `"not_ready"` and the failing check
  // (`unreachable`, `pending`, `unknown`)"
  // README (Upgrading): "`/readyz` reports `"migrations":"pending"` on an instance whose database
  // lacks a migration it expects."
  it('answers 503 not_ready with "migrations":"pending" while the last migration is not applied, and 200 ready once it is', async () => {
    const prisma = server.tessera.db.prisma;
    const ready = await readyz(base);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', redis } });

    // the database as it was before the last migration was applied (as far as its history says)
    const [row] = await prisma.$queryRawUnsafe<{ row: unknown }[]>('SELECT row_to_json(m) AS row FROM _prisma_migrations m WHERE migration_name = $1', last);
    expect(row).toBeDefined();
    expect(await prisma.$executeRawUnsafe('DELETE FROM _prisma_migrations WHERE migration_name = $1', last)).toBe(1);
    try {
      const pending = await readyz(base);
      expect(pending.status).toBe(503);
      expect(pending.body).toEqual({ status: 'not_ready', checks: { database: 'ok', migrations: 'pending', redis } });
      expect(pending.headers.get('cache-control')).toBe('no-store');
      // README: "The bodies name checks and states only, never hosts, URLs or error text."
      expect(pending.text).not.toMatch(/postgres|127\.0\.0\.1|localhost|_prisma_migrations|\d{14}_/);
      // liveness is another matter: the process runs
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      // a migration that was started but never finished counts as not applied either
      await prisma.$executeRawUnsafe(
        'INSERT INTO _prisma_migrations SELECT * FROM json_populate_record(NULL::_prisma_migrations, $1::json)',
        JSON.stringify(row!.row),
      );
      await prisma.$executeRawUnsafe('UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1', last);
      expect((await readyz(base)).body).toEqual({ status: 'not_ready', checks: { database: 'ok', migrations: 'pending', redis } });
    } finally {
      await prisma.$executeRawUnsafe('DELETE FROM _prisma_migrations WHERE migration_name = $1', last);
      await prisma.$executeRawUnsafe(
        'INSERT INTO _prisma_migrations SELECT * FROM json_populate_record(NULL::_prisma_migrations, $1::json)',
        JSON.stringify(row!.row),
      );
    }
    const back = await readyz(base);
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', redis } });
  });
});

describe('/readyz with Redis unreachable (PostgreSQL + a private Redis)', () => {
  let server: TestServer | undefined;
  let redis: PrivateRedis | undefined;
  beforeAll(async () => {
    requiredUrl('TEST_DATABASE_URL');
    redis = await privateRedis();
    await redis.start();
    server = await startTestServer('postgres', { REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });

  // README (Health): "… and Redis (when configured …) answers; otherwise `503` with `"not_ready"`
  // and the failing check (`unreachable`, …)"
  it('answers 503 with "redis":"unreachable" while Redis is down, and 200 once it is back', async () => {
    const base = `http://127.0.0.1:${server!.tessera.port}`;
    expect((await readyz(base)).body).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', redis: 'ok' } });
    await redis!.stop();
    const down = await readyz(base);
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'not_ready', checks: { database: 'ok', migrations: 'ok', redis: 'unreachable' } });
    expect(down.text).not.toMatch(/127\.0\.0\.1|redis:\/\/|ECONNREFUSED/);
    await redis!.start();
    await eventually('/readyz to answer 200 again', async () => (await readyz(base)).status === 200, 30_000);
    expect((await readyz(base)).body).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', redis: 'ok' } });
  });
});
