/**
 * CPU time per client_credentials token, Tessera next to bare oidc-provider, from the kernel's
 * accounting of each server's process group (/proc/<pid>/stat: event loop, thread pool and, with
 * WEB_CONCURRENCY, every worker) divided by the requests wrk completed. Unlike tokens/s it hardly
 * moves when the shared machine gets busier, so it is the number to compare before and after a
 * change (bench/README.md). Alternating runs, 16 connections.
 *   npx tsx bench/cpu-per-token.ts [seconds per run] [rounds]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { freePort, startProcess, waitFor, type RunningProcess } from '../test/helpers/process.ts';
import { basic, runWrk } from '../bench/lib.ts';
import { startBenchServer } from '../bench/server.ts';
const API = 'https://api.bench.example';
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
async function measure(p: RunningProcess, url: string, auth: string) {
  const c0 = groupCpuMs(p.child.pid!);
  const r = await runWrk(url, { connections: 16, seconds, body: 'grant_type=client_credentials', auth });
  const c1 = groupCpuMs(p.child.pid!);
  return { rps: r.requestsPerSec, p99: r.p99Ms, usPerReq: Math.round(((c1 - c0) * 1000) / r.requests), non2xx: r.non2xx };
}
const server = await startBenchServer(process.env.WEB_CONCURRENCY ? { WEB_CONCURRENCY: process.env.WEB_CONCURRENCY } : {});
const rPort = await freePort();
const reference = startProcess({ PORT: String(rPort) }, [process.execPath, '--import', 'tsx', 'bench/reference-server.ts']);
try {
  await waitFor(`http://localhost:${rPort}/.well-known/openid-configuration`, 30_000, reference);
  await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
  await server.admin('POST', '/tenants/bench/resources', { audience: API, name: 'api', scopes: ['read'] });
  await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
  const client = await server.admin('POST', '/tenants/bench/clients', { name: 'bench', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: API });
  const tAuth = basic(client.clientId!, client.clientSecret!);
  const rAuth = basic('bench', 'bench-secret-bench-secret-bench-secret');
  const tUrl = `${server.url}/t/bench/token`, rUrl = `http://localhost:${rPort}/token`;
  await measure(server.proc, tUrl, tAuth); await measure(reference, rUrl, rAuth);
  const ts = [], rs = [];
  for (let i = 0; i < rounds; i++) { ts.push(await measure(server.proc, tUrl, tAuth)); rs.push(await measure(reference, rUrl, rAuth)); }
  const avg = (xs: { rps: number; usPerReq: number }[], k: 'rps' | 'usPerReq') => Math.round(xs.reduce((a, x) => a + x[k], 0) / xs.length);
  console.log(JSON.stringify({ tessera: ts, bare: rs }));
  console.log(`RESULT tessera ${avg(ts, 'rps')}/s ${avg(ts, 'usPerReq')}us/req | bare ${avg(rs, 'rps')}/s ${avg(rs, 'usPerReq')}us/req | ratio rps ${(avg(ts, 'rps') / avg(rs, 'rps')).toFixed(3)} cpu ${(avg(rs, 'usPerReq') / avg(ts, 'usPerReq')).toFixed(3)}`);
} finally { await server.stop(); await reference.stop(); }
