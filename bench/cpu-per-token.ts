/**
 * CPU time per client_credentials token, Tessera next to bare oidc-provider, from the kernel's
 * accounting of each server's process group (/proc/<pid>/stat: event loop, thread pool and, with
 * WEB_CONCURRENCY, every worker) divided by the requests wrk completed. Unlike tokens/s it hardly
 * moves when the shared machine gets busier, so it is the number to compare before and after a
 * change (bench/README.md). Alternating runs, 16 connections. Tessera runs with its defaults
 * (LOG_LEVEL info: its request log lines are part of its CPU); only 2xx answers are counted, and
 * any other answer fails the run.
 *   npx tsx bench/cpu-per-token.ts [seconds per run] [rounds]     (WEB_CONCURRENCY / BENCH_LOG_LEVEL optional)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { main, runWrk, saveResult } from './lib.ts';
import { assertRequestsLogged, startTokenPair, type TokenEndpoint } from './server.ts';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 2);
const tick = 100; // USER_HZ on Linux
function groupCpuMs(pgid: number): number {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) !== pgid) continue;
      sum += (Number(f[11]) + Number(f[12])) * (1000 / tick);
    } catch {
      // the process ended between readdir and read
    }
  }
  return sum;
}
async function measure(side: string, { proc, url, auth }: TokenEndpoint) {
  const c0 = groupCpuMs(proc.child.pid!);
  const r = await runWrk(`cpu-per-token, ${side}`, url, { connections: 16, seconds, body: 'grant_type=client_credentials', auth });
  const c1 = groupCpuMs(proc.child.pid!);
  return { rps: Math.round(r.perSec), p99: r.p99Ms, usPerReq: Math.round(((c1 - c0) * 1000) / r.ok), ok: r.ok };
}
await main(async () => {
  const { tessera, bare, server, stop } = await startTokenPair(process.env.WEB_CONCURRENCY ? { WEB_CONCURRENCY: process.env.WEB_CONCURRENCY } : {});
  try {
    // warm-up
    await measure('tessera warm-up', tessera);
    await measure('bare warm-up', bare);
    const ts = [],
      rs = [];
    for (let i = 0; i < rounds; i++) {
      ts.push(await measure('tessera', tessera));
      rs.push(await measure('bare', bare));
    }
    const log = server.proc.log();
    assertRequestsLogged(
      'cpu-per-token',
      log,
      ts.reduce((a, r) => a + r.ok, 0),
    );
    const avg = (xs: { rps: number; usPerReq: number }[], k: 'rps' | 'usPerReq') => Math.round(xs.reduce((a, x) => a + x[k], 0) / xs.length);
    const result = {
      date: new Date().toISOString(),
      workers: Number(process.env.WEB_CONCURRENCY ?? 1),
      logLevel: log.level,
      serverLog: log,
      tessera: { perSec: avg(ts, 'rps'), cpuUsPerToken: avg(ts, 'usPerReq'), runs: ts },
      bare: { perSec: avg(rs, 'rps'), cpuUsPerToken: avg(rs, 'usPerReq'), runs: rs },
    };
    console.table([
      { server: `tessera (${result.workers} process)`, 'tokens/s': result.tessera.perSec, 'CPU µs/token': result.tessera.cpuUsPerToken },
      { server: 'bare oidc-provider', 'tokens/s': result.bare.perSec, 'CPU µs/token': result.bare.cpuUsPerToken },
    ]);
    console.log(
      `ratio tokens/s ${(result.tessera.perSec / result.bare.perSec).toFixed(3)}, CPU per token bare/tessera ${(result.bare.cpuUsPerToken / result.tessera.cpuUsPerToken).toFixed(3)}`,
    );
    await saveResult('cpu-per-token', result);
  } finally {
    await stop();
  }
});
