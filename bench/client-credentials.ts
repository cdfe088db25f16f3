/**
 * client_credentials tokens/s (2xx answers only) and latency, issue 9 scenarios 1 and 2:
 * Tessera as users run it (`npm start`'s command, default settings — LOG_LEVEL info —,
 * PostgreSQL + Redis, one process or WEB_CONCURRENCY workers) next to bare oidc-provider
 * (in-memory, one process), same algorithm (ES256), same JWT format, driven by wrk at 16
 * connections over loopback in the same run. Two Tessera rows: a client without a rate limit,
 * and a client with a plan (`rateLimitPerHour`, never reached), whose every token counts in Redis.
 * Runs alternate (T, P, B, B, P, T) so all sides see the same machine. Any non-2xx answer fails.
 *   npx tsx bench/client-credentials.ts [seconds]     (WEB_CONCURRENCY=2 / BENCH_LOG_LEVEL=warn optional)
 */
import { BenchFailure, combine, main, runWrk, saveResult } from './lib.ts';
import { assertRequestsLogged, planRateLimitPerHour, rateLimitCount, startTokenPair, type TokenEndpoint } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const workers = Number(process.env.WEB_CONCURRENCY ?? 1);
const scenario = `client_credentials (${workers} process${workers > 1 ? 'es' : ''}, LOG_LEVEL ${process.env.BENCH_LOG_LEVEL ?? 'info'})`;

await main(async () => {
  const { tessera, tesseraPlan, bare, server, stop } = await startTokenPair(workers > 1 ? { WEB_CONCURRENCY: String(workers) } : {});
  try {
    const body = 'grant_type=client_credentials';
    const run = (side: string, ep: TokenEndpoint, s: number) => runWrk(`${scenario}, ${side}`, ep.url, { connections: 16, seconds: s, body, auth: ep.auth });
    // warm-up, then alternate so every side sees the same machine conditions
    await run('tessera warm-up', tessera, 2);
    await run('tessera with a plan, warm-up', tesseraPlan, 2);
    await run('bare warm-up', bare, 2);
    const half = Math.max(1, Math.round(seconds / 2));
    const t1 = await run('tessera', tessera, half);
    const p1 = await run('tessera with a plan', tesseraPlan, half);
    const b1 = await run('bare', bare, half);
    const b2 = await run('bare', bare, half);
    const p2 = await run('tessera with a plan', tesseraPlan, half);
    const t2 = await run('tessera', tessera, half);
    const t = combine([t1, t2]);
    const p = combine([p1, p2]);
    const b = combine([b1, b2]);
    const log = server.proc.log();
    const planCounted = await rateLimitCount(tesseraPlan.clientId);
    const answered = [t1, t2, p1, p2].reduce((a, r) => a + r.ok, 0);
    assertRequestsLogged(scenario, log, answered);
    const result = {
      date: new Date().toISOString(),
      scenario: workers > 1 ? 2 : 1,
      workers,
      secondsPerSide: half * 2,
      connections: 16,
      logLevel: log.level,
      tessera: t,
      tesseraPlan: { ...p, rateLimitPerHour: planRateLimitPerHour(), countedInRedis: planCounted },
      bare: b,
      ratio: Math.round((t.rps / b.rps) * 1000) / 1000,
      ratioPlan: Math.round((p.rps / b.rps) * 1000) / 1000,
      targets: { ratio: workers === 2 ? 1.5 : 0.85, p99Ms: 25 },
      serverLog: log,
    };
    // the plan's requests (warm-up included) must all have been counted in Redis
    if (planCounted < p1.ok + p2.ok)
      throw new BenchFailure(`${scenario}: the plan client's Redis counter is ${planCounted}, below its ${p1.ok + p2.ok} measured tokens`);
    console.table([
      { server: `tessera (${workers} process)`, 'tokens/s (2xx)': Math.round(t.rps), 'p50 ms': t.p50, 'p99 ms': t.p99, ratio: result.ratio },
      {
        server: `tessera, client with a plan (${planRateLimitPerHour()}/h)`,
        'tokens/s (2xx)': Math.round(p.rps),
        'p50 ms': p.p50,
        'p99 ms': p.p99,
        ratio: result.ratioPlan,
      },
      { server: 'bare oidc-provider', 'tokens/s (2xx)': Math.round(b.rps), 'p50 ms': b.p50, 'p99 ms': b.p99, ratio: 1 },
    ]);
    console.log(
      `LOG_LEVEL ${log.level}: ${log.requestLines} request log lines (${Math.round(log.bytes / 1024)} KiB); ratio target >= ${result.targets.ratio}, p99 target <= 25 ms`,
    );
    await saveResult('client-credentials', result);
  } finally {
    await stop();
  }
});
