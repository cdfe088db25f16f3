/**
 * Refresh-token grants/s with rotation and introspections/s of JWT access tokens (issue 9,
 * scenarios 4 and 5), against one Tessera process as users run it (default settings, LOG_LEVEL
 * info) on PostgreSQL + Redis. Only 2xx answers count; any other answer fails the run.
 *   npx tsx bench/token-ops.ts [seconds]
 * Refresh uses 16 concurrent chains (each refreshes the token its previous refresh returned);
 * introspection is driven by wrk at 16 connections with one token.
 */
import { basic, BenchFailure, main, runWrk, saveResult } from './lib.ts';
import { assertRequestsLogged, percentiles, startBenchServer } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const API = 'https://api.bench.example';
const level = process.env.BENCH_LOG_LEVEL ?? 'info';

await main(async () => {
  const server = await startBenchServer();
  try {
    await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
    await server.admin('POST', '/tenants/bench/resources', { audience: API, name: 'api', scopes: ['read'] });
    await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
    await server.admin('POST', '/tenants/bench/users', { username: 'u', password: 'bench-user-password', roles: ['reader'] });
    const machine = await server.admin('POST', '/tenants/bench/clients', {
      name: 'm',
      grantTypes: ['client_credentials'],
      roles: ['reader'],
      defaultResource: API,
    });
    const web = await server.admin('POST', '/tenants/bench/clients', { name: 'w', grantTypes: ['password', 'refresh_token'], defaultResource: API });
    const webAuth = `Basic ${basic(web.clientId!, web.clientSecret!)}`;

    // scenario 5: introspection of a JWT access token
    const at = (await server.form('/t/bench/token', { grant_type: 'client_credentials' }, `Basic ${basic(machine.clientId!, machine.clientSecret!)}`))
      .access_token as string;
    const introUrl = `${server.url}/t/bench/token/introspection`;
    const introBody = `token=${at}`;
    const introScenario = `introspection (LOG_LEVEL ${level})`;
    await runWrk(`${introScenario}, warm-up`, introUrl, {
      connections: 16,
      seconds: 2,
      body: introBody,
      auth: basic(machine.clientId!, machine.clientSecret!),
    });
    const intro = await runWrk(introScenario, introUrl, { connections: 16, seconds, body: introBody, auth: basic(machine.clientId!, machine.clientSecret!) });

    // scenario 4: refresh with rotation, 16 chains
    // signed in one after the other: parallel sign-ins from one address can be refused (429)
    const chains: string[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await server.form('/t/bench/token', { grant_type: 'password', username: 'u', password: 'bench-user-password' }, webAuth);
      if (typeof r.refresh_token !== 'string') throw new BenchFailure(`refresh with rotation: sign-in ${i + 1} of 16 failed: ${JSON.stringify(r)}`);
      chains.push(r.refresh_token);
    }
    const latencies: number[] = [];
    const failures: Record<string, number> = {};
    const started = performance.now();
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      chains.map(async (first) => {
        let rt = first;
        while (Date.now() < until) {
          const t0 = performance.now();
          const res = await fetch(`${server.url}/t/bench/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: webAuth },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }),
          });
          const body = (await res.json()) as Record<string, unknown>;
          if (res.status !== 200 || typeof body.refresh_token !== 'string') {
            const key = `${res.status} ${String(body.error ?? '')}`.trim();
            failures[key] = (failures[key] ?? 0) + 1;
            break; // this chain is over
          }
          latencies.push(performance.now() - t0);
          rt = body.refresh_token;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    if (Object.keys(failures).length) {
      throw new BenchFailure(
        `refresh with rotation (LOG_LEVEL ${level}): answers that were not 2xx: ${Object.entries(failures)
          .map(([k, n]) => `${n} × ${k}`)
          .join(', ')}`,
      );
    }
    const refresh = { perSec: Math.round((latencies.length / elapsed) * 10) / 10, ok: latencies.length, ...percentiles(latencies) };
    const log = server.proc.log();
    assertRequestsLogged('token-ops', log, intro.ok + latencies.length);
    const result = {
      date: new Date().toISOString(),
      logLevel: log.level,
      introspection: { perSec: Math.round(intro.perSec * 10) / 10, ok: intro.ok, p50Ms: intro.p50Ms, p99Ms: intro.p99Ms },
      refresh,
      serverLog: log,
    };
    console.table([
      { scenario: 'introspection of JWT access tokens', '2xx per s': Math.round(intro.perSec), 'p50 ms': intro.p50Ms, 'p99 ms': intro.p99Ms },
      { scenario: 'refresh_token grants (rotation)', '2xx per s': refresh.perSec, 'p50 ms': refresh.p50, 'p99 ms': refresh.p99 },
    ]);
    await saveResult('token-ops', result);
  } finally {
    await server.stop();
  }
});
