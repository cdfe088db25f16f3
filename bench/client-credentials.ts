/**
 * client_credentials tokens/s and latency: Tessera (PostgreSQL + Redis, production settings, one
 * process) next to bare oidc-provider (in-memory, one process), same algorithm (ES256), same JWT
 * format, driven by wrk at 16 connections over loopback in the same run (issue 9, scenario 1).
 *   BENCH_DATABASE_URL=postgresql://… BENCH_REDIS_URL=redis://… npx tsx bench/client-credentials.ts [seconds]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { freePort, startProcess, waitFor } from '../test/helpers/process.ts';
import { basic, runWrk } from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODE = [process.execPath, '--import', 'tsx'];

// a fresh database for this run
const dbName = `tessera_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;

const [tPort, rPort] = [await freePort(), await freePort()];
const tessera = startProcess(
  {
    PORT: String(tPort),
    DATABASE_URL: dbUrl.href,
    REDIS_URL: redisUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_ADMIN_PASSWORD: 'bench-admin-password',
    LOG_LEVEL: 'warn',
    ...(process.env.WEB_CONCURRENCY ? { WEB_CONCURRENCY: process.env.WEB_CONCURRENCY } : {}),
  },
  [...NODE, 'src/main.ts'],
);
const reference = startProcess({ PORT: String(rPort) }, [...NODE, 'bench/reference-server.ts']);
try {
  const base = `http://localhost:${tPort}`;
  await waitFor(`${base}/t/system/jwks`, 60_000, tessera);
  await waitFor(`http://localhost:${rPort}/.well-known/openid-configuration`, 30_000, reference);

  // set up a tenant and a machine client through the admin API
  const tok = await fetch(`${base}/t/system/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'bench-admin-password' }),
  });
  const adminToken = ((await tok.json()) as { access_token: string }).access_token;
  const api = (path: string, body: unknown) =>
    fetch(`${base}/admin${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<Record<string, string>>,
    );
  await api('/tenants', { slug: 'bench', name: 'Bench' });
  await api('/tenants/bench/resources', { audience: 'https://api.bench.example', name: 'api', scopes: ['read'] });
  await api('/tenants/bench/roles', { name: 'reader', permissions: [{ resource: 'https://api.bench.example', scope: 'read' }] });
  const client = await api('/tenants/bench/clients', { name: 'bench', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: 'https://api.bench.example' });

  const body = 'grant_type=client_credentials';
  const tAuth = basic(client.clientId!, client.clientSecret!);
  const rAuth = basic('bench', 'bench-secret-bench-secret-bench-secret');
  const tUrl = `${base}/t/bench/token`;
  const rUrl = `http://localhost:${rPort}/token`;
  // warm-up, then alternate so both see the same machine conditions
  await runWrk(tUrl, { connections: 16, seconds: 2, body, auth: tAuth });
  await runWrk(rUrl, { connections: 16, seconds: 2, body, auth: rAuth });
  const half = Math.max(1, Math.round(seconds / 2));
  const t1 = await runWrk(tUrl, { connections: 16, seconds: half, body, auth: tAuth });
  const r1 = await runWrk(rUrl, { connections: 16, seconds: half, body, auth: rAuth });
  const r2 = await runWrk(rUrl, { connections: 16, seconds: half, body, auth: rAuth });
  const t2 = await runWrk(tUrl, { connections: 16, seconds: half, body, auth: tAuth });
  const t = { rps: (t1.requestsPerSec + t2.requestsPerSec) / 2, p50: Math.max(t1.p50Ms, t2.p50Ms), p99: Math.max(t1.p99Ms, t2.p99Ms), non2xx: t1.non2xx + t2.non2xx };
  const r = { rps: (r1.requestsPerSec + r2.requestsPerSec) / 2, p50: Math.max(r1.p50Ms, r2.p50Ms), p99: Math.max(r1.p99Ms, r2.p99Ms), non2xx: r1.non2xx + r2.non2xx };
  const result = {
    date: new Date().toISOString(),
    workers: Number(process.env.WEB_CONCURRENCY ?? 1),
    tessera: t,
    bare: r,
    ratio: Math.round((t.rps / r.rps) * 1000) / 1000,
    targets: { ratio: process.env.WEB_CONCURRENCY === '2' ? 1.5 : 0.85, p99Ms: 25 },
  };
  console.table([
    { server: `tessera (${result.workers} process)`, 'tokens/s': Math.round(t.rps), 'p50 ms': t.p50, 'p99 ms': t.p99, 'non-2xx': t.non2xx },
    { server: 'bare oidc-provider', 'tokens/s': Math.round(r.rps), 'p50 ms': r.p50, 'p99 ms': r.p99, 'non-2xx': r.non2xx },
  ]);
  console.log(`ratio ${result.ratio} (target >= ${result.targets.ratio}), p99 target <= 25 ms`);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`./results/client-credentials-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await tessera.stop();
  await reference.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
