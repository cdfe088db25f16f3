/**
 * A Tessera process for a benchmark: a fresh PostgreSQL database, Redis, production settings,
 * and an admin API helper to set data up. Stopped (and its database dropped) by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort, startProcess, waitFor, type RunningProcess } from '../test/helpers/process.ts';

export interface BenchServer {
  url: string;
  proc: RunningProcess;
  admin(method: string, path: string, body?: unknown): Promise<Record<string, string>>;
  form(path: string, body: Record<string, string>, auth?: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'bench-admin-password';

/** a fresh, empty PostgreSQL database on BENCH_DATABASE_URL's server (default: the local one) */
export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const dbName = `tessera_bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  return {
    url: dbUrl.href,
    async drop() {
      const d = new pg.Client({ connectionString: adminUrl });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await d.end();
    },
  };
}

export const benchRedisUrl = () => process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

export async function startBenchServer(extraEnv: Record<string, string> = {}): Promise<BenchServer> {
  const database = await createBenchDatabase();
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const proc = startProcess(
    {
      PORT: String(port),
      DATABASE_URL: database.url,
      REDIS_URL: benchRedisUrl(),
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the server
    [process.execPath, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/main.ts'],
  );
  await waitFor(`${url}/t/system/jwks`, 60_000, proc);
  const form = async (path: string, body: Record<string, string>, auth?: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  let token = '';
  const admin = async (method: string, path: string, body?: unknown) => {
    token ||= (await form('/t/system/token', { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD })).access_token as string;
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json().catch(() => ({}))) as Record<string, string>;
  };
  return {
    url,
    proc,
    admin,
    form,
    async stop() {
      await proc.stop();
      await database.drop();
    },
  };
}

/** latency percentiles of a list of milliseconds */
export function percentiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 100) / 100;
  return { p50: at(50), p99: at(99) };
}
