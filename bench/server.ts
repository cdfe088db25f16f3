/**
 * A Tessera process for a benchmark, run as users run it: `npm start`'s command
 * (`node --import tsx src/main.ts`) in its own process with the default settings — LOG_LEVEL
 * info, so one request log line per request, written to a file as a process manager would
 * collect it — on a fresh PostgreSQL database and Redis. Only what a deployment must set is set
 * (PORT, DATABASE_URL, REDIS_URL, KEY_ENCRYPTION_KEY, BOOTSTRAP_ADMIN_PASSWORD), plus what a
 * scenario passes. BENCH_LOG_LEVEL overrides LOG_LEVEL (e.g. `warn`, for a second, labelled row).
 * With an admin API helper to set data up; stopped (and its database dropped) by `stop()`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort, waitFor, type RunningProcess } from '../test/helpers/process.ts';
import { basic, BenchFailure, REFERENCE_API, REFERENCE_CLIENT, ROOT } from './lib.ts';

export interface ServerLog {
  /** LOG_LEVEL the server ran with (unset = Tessera's default, info) */
  level: string;
  bytes: number;
  lines: number;
  /** lines with msg "request": one per request at info */
  requestLines: number;
}

export interface ServerProcess extends RunningProcess {
  logFile: string;
  /** what the server has logged so far */
  log(): ServerLog;
}

/**
 * Starts `command` in its own process group (so its CPU can be read and it can be stopped as a
 * whole) with only `env` plus PATH and HOME, stdout appended to a log file, stderr kept in memory.
 * The log file is removed on stop unless BENCH_KEEP_LOGS=1.
 */
export function startServerProcess(env: Record<string, string>, command: string[]): ServerProcess {
  const logFile = join(tmpdir(), `tessera-bench-${process.pid}-${randomBytes(4).toString('hex')}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', fd, 'pipe'],
    detached: true,
  });
  closeSync(fd);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const level = env.LOG_LEVEL ?? 'info (default)';
  return {
    child,
    logFile,
    output() {
      let tail = '';
      try {
        tail = readFileSync(logFile, 'utf8').slice(-20_000);
      } catch {
        // removed already
      }
      return `${tail}${err}`;
    },
    log() {
      try {
        const text = readFileSync(logFile, 'utf8');
        let lines = 0;
        let requestLines = 0;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
        for (let i = text.indexOf('"msg":"request"'); i !== -1; i = text.indexOf('"msg":"request"', i + 1)) requestLines++;
        return { level, bytes: statSync(logFile).size, lines, requestLines };
      } catch {
        return { level, bytes: 0, lines: 0, requestLines: 0 };
      }
    },
    async stop() {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (process.env.BENCH_KEEP_LOGS === '1') console.log(`server log kept: ${logFile}`);
      else rmSync(logFile, { force: true });
      return code;
    },
  };
}

/**
 * Fails the run when a server that should log every request (LOG_LEVEL info, the default) logged
 * fewer request lines than the 2xx answers counted: then the run did not measure the default.
 */
export function assertRequestsLogged(scenario: string, log: ServerLog, answered: number): void {
  if (log.level.startsWith('info') && log.requestLines < answered) {
    throw new BenchFailure(`${scenario}: the server logged ${log.requestLines} request lines for ${answered} answers at LOG_LEVEL ${log.level}`);
  }
}

export interface BenchServer {
  url: string;
  proc: ServerProcess;
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

/** BENCH_LOG_LEVEL, when set, as the server's LOG_LEVEL; otherwise nothing (Tessera's default, info) */
export const logLevelEnv = (): Record<string, string> => (process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {});

/** Tessera's command line, as `npm start` runs it; BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") adds node flags */
export const tesseraCommand = () => [process.execPath, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/main.ts'];

/**
 * One Tessera process on a fresh PostgreSQL database and Redis (or, with `embedded`, the embedded
 * database and in-process store in a fresh DATA_DIR), `extraEnv` on top of the defaults.
 */
export async function startBenchServer(extraEnv: Record<string, string> = {}, opts: { embedded?: boolean } = {}): Promise<BenchServer> {
  const dataDir = opts.embedded ? await mkdtemp(join(tmpdir(), 'tessera-bench-')) : undefined;
  const database = dataDir ? undefined : await createBenchDatabase();
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const proc = startServerProcess(
    {
      PORT: String(port),
      ...(database
        ? { DATABASE_URL: database.url, REDIS_URL: benchRedisUrl(), KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
        : { DATA_DIR: dataDir! }),
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...logLevelEnv(),
      ...extraEnv,
    },
    tesseraCommand(),
  );
  const stop = async () => {
    await proc.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${url}/t/system/jwks`, 60_000, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  const form = async (path: string, body: Record<string, string>, auth?: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  // one admin sign-in, shared by every caller (parallel sign-ins from one address can be refused)
  let token: Promise<string> | undefined;
  const adminToken = async () => {
    const r = await form('/t/system/token', { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD });
    if (typeof r.access_token !== 'string') throw new BenchFailure(`setup: the admin sign-in failed: ${JSON.stringify(r)}`);
    return r.access_token;
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    token ??= adminToken();
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${await token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, string>;
    if (res.status >= 300) throw new BenchFailure(`setup: ${method} /admin${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return { url, proc, admin, form, stop };
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
  clientId: string;
}

/**
 * How many token requests of `clientId` Redis has counted against its rate limit (the sum of its
 * hourly windows, keys `tessera:rl:c:<tenant id>:<client id>:<hour>`): proof that the plan's
 * requests did touch Redis (the limiter lets tokens through when Redis fails).
 */
export async function rateLimitCount(clientId: string): Promise<number> {
  const redis = new Redis(benchRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `tessera:rl:c:*:${clientId}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) total += Number(await redis.get(key));
    } while (cursor !== '0');
    return total;
  } finally {
    redis.disconnect();
  }
}

/**
 * The client with a plan: its `rateLimitPerHour` (BENCH_RATE_LIMIT_PER_HOUR, default 1,000,000 —
 * far above what a run issues, so it never trips; a 429 would fail the run) makes every token
 * request count against its limit in Redis, as a client with a plan does.
 */
export const planRateLimitPerHour = () => Number(process.env.BENCH_RATE_LIMIT_PER_HOUR ?? 1_000_000);

/**
 * Tessera (tenant `bench`, one resource, two machine clients with a role on it: one without a
 * rate limit, one with a plan) and the bare oidc-provider reference, both started and answering:
 * the pair scenarios 1 and 2 compare.
 */
export async function startTokenPair(extraEnv: Record<string, string> = {}): Promise<{
  tessera: TokenEndpoint;
  tesseraPlan: TokenEndpoint;
  bare: TokenEndpoint;
  server: BenchServer;
  stop(): Promise<void>;
}> {
  const server = await startBenchServer(extraEnv);
  const port = await freePort();
  const reference = startServerProcess({ PORT: String(port) }, [process.execPath, '--import', 'tsx', 'bench/reference-server.ts']);
  const stop = async () => {
    await server.stop();
    await reference.stop();
  };
  try {
    await waitFor(`http://localhost:${port}/.well-known/openid-configuration`, 30_000, reference);
    await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
    await server.admin('POST', '/tenants/bench/resources', { audience: REFERENCE_API, name: 'api', scopes: ['read'] });
    await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: REFERENCE_API, scope: 'read' }] });
    const client = await server.admin('POST', '/tenants/bench/clients', {
      name: 'bench',
      grantTypes: ['client_credentials'],
      roles: ['reader'],
      defaultResource: REFERENCE_API,
    });
    const plan = await server.admin('POST', '/tenants/bench/clients', {
      name: 'bench-plan',
      grantTypes: ['client_credentials'],
      roles: ['reader'],
      defaultResource: REFERENCE_API,
      rateLimitPerHour: planRateLimitPerHour(),
    });
    const tokenUrl = `${server.url}/t/bench/token`;
    return {
      tessera: { url: tokenUrl, auth: basic(client.clientId!, client.clientSecret!), proc: server.proc, clientId: client.clientId! },
      tesseraPlan: { url: tokenUrl, auth: basic(plan.clientId!, plan.clientSecret!), proc: server.proc, clientId: plan.clientId! },
      bare: {
        url: `http://localhost:${port}/token`,
        auth: basic(REFERENCE_CLIENT.client_id, REFERENCE_CLIENT.client_secret),
        proc: reference,
        clientId: REFERENCE_CLIENT.client_id,
      },
      server,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
