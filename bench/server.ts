/**
 * A Tessera process for a benchmark: a fresh PostgreSQL database, Redis, production settings,
 * and an admin API helper to set data up. Stopped (and its database dropped) by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort, startProcess, waitFor, type RunningProcess } from '../test/helpers/process.ts';
import { basic, REFERENCE_API, REFERENCE_CLIENT } from './lib.ts';

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

export interface TokenEndpoint {
  url: string;
  /** the client's HTTP Basic credentials */
  auth: string;
  proc: RunningProcess;
}

/**
 * Tessera (tenant `bench`, one resource, a machine client with a role on it) and the bare
 * oidc-provider reference, both started and answering: the pair scenarios 1 and 2 compare.
 */
export async function startTokenPair(extraEnv: Record<string, string> = {}): Promise<{ tessera: TokenEndpoint; bare: TokenEndpoint; stop(): Promise<void> }> {
  const server = await startBenchServer(extraEnv);
  const port = await freePort();
  const reference = startProcess({ PORT: String(port) }, [process.execPath, '--import', 'tsx', 'bench/reference-server.ts']);
  const stop = async () => {
    await server.stop();
    await reference.stop();
  };
  try {
    await waitFor(`http://localhost:${port}/.well-known/openid-configuration`, 30_000, reference);
    await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
    await server.admin('POST', '/tenants/bench/resources', { audience: REFERENCE_API, name: 'api', scopes: ['read'] });
    await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: REFERENCE_API, scope: 'read' }] });
    const client = await server.admin('POST', '/tenants/bench/clients', { name: 'bench', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: REFERENCE_API });
    return {
      tessera: { url: `${server.url}/t/bench/token`, auth: basic(client.clientId!, client.clientSecret!), proc: server.proc },
      bare: { url: `http://localhost:${port}/token`, auth: basic(REFERENCE_CLIENT.client_id, REFERENCE_CLIENT.client_secret), proc: reference },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
