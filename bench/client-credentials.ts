/**
 * client_credentials tokens/s and latency: Tessera (PostgreSQL + Redis, production settings, one
 * process) next to bare oidc-provider (in-memory, one process), same algorithm (ES256), same JWT
 * format, driven by wrk at 16 connections over loopback in the same run (issue 9, scenario 1).
 *   BENCH_DATABASE_URL=postgresql://… BENCH_REDIS_URL=redis://… npx tsx bench/client-credentials.ts [seconds]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { runWrk } from './lib.ts';
import { startTokenPair } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const workers = process.env.WEB_CONCURRENCY;

const { tessera, bare, stop } = await startTokenPair(workers ? { WEB_CONCURRENCY: workers } : {});
try {
  const body = 'grant_type=client_credentials';
  const [tUrl, tAuth, rUrl, rAuth] = [tessera.url, tessera.auth, bare.url, bare.auth];
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
  await stop();
}
