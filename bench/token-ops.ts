/**
 * Refresh-token grants/s with rotation and introspections/s of JWT access tokens (issue 9,
 * scenarios 4 and 5), against one Tessera process on PostgreSQL + Redis.
 *   npx tsx bench/token-ops.ts [seconds]
 * Refresh uses 16 concurrent chains (each refreshes the token its previous refresh returned);
 * introspection is driven by wrk at 16 connections with one token.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basic, runWrk } from './lib.ts';
import { percentiles, startBenchServer } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const API = 'https://api.bench.example';
const server = await startBenchServer();
try {
  await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
  await server.admin('POST', '/tenants/bench/resources', { audience: API, name: 'api', scopes: ['read'] });
  await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
  await server.admin('POST', '/tenants/bench/users', { username: 'u', password: 'bench-user-password', roles: ['reader'] });
  const machine = await server.admin('POST', '/tenants/bench/clients', { name: 'm', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: API });
  const web = await server.admin('POST', '/tenants/bench/clients', { name: 'w', grantTypes: ['password', 'refresh_token'], defaultResource: API });
  const webAuth = `Basic ${basic(web.clientId!, web.clientSecret!)}`;

  // scenario 5: introspection of a JWT access token
  const at = (await server.form('/t/bench/token', { grant_type: 'client_credentials' }, `Basic ${basic(machine.clientId!, machine.clientSecret!)}`)).access_token as string;
  const introUrl = `${server.url}/t/bench/token/introspection`;
  const introBody = `token=${at}`;
  await runWrk(introUrl, { connections: 16, seconds: 2, body: introBody, auth: basic(machine.clientId!, machine.clientSecret!) });
  const intro = await runWrk(introUrl, { connections: 16, seconds, body: introBody, auth: basic(machine.clientId!, machine.clientSecret!) });

  // scenario 4: refresh with rotation, 16 chains
  const chains = await Promise.all(
    Array.from({ length: 16 }, async () =>
      (await server.form('/t/bench/token', { grant_type: 'password', username: 'u', password: 'bench-user-password' }, webAuth)).refresh_token as string,
    ),
  );
  const latencies: number[] = [];
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    chains.map(async (first) => {
      let rt = first;
      while (Date.now() < until) {
        const t0 = performance.now();
        const res = await server.form('/t/bench/token', { grant_type: 'refresh_token', refresh_token: rt }, webAuth);
        latencies.push(performance.now() - t0);
        if (typeof res.refresh_token !== 'string') {
          failures++;
          break;
        }
        rt = res.refresh_token;
      }
    }),
  );
  const refresh = { perSec: Math.round(latencies.length / seconds), ...percentiles(latencies), failures };
  const result = {
    date: new Date().toISOString(),
    introspection: { perSec: intro.requestsPerSec, p50Ms: intro.p50Ms, p99Ms: intro.p99Ms, non2xx: intro.non2xx },
    refresh,
  };
  console.table([
    { scenario: 'introspection of JWT access tokens', 'per s': Math.round(intro.requestsPerSec), 'p50 ms': intro.p50Ms, 'p99 ms': intro.p99Ms },
    { scenario: 'refresh_token grants (rotation)', 'per s': refresh.perSec, 'p50 ms': refresh.p50, 'p99 ms': refresh.p99 },
  ]);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`./results/token-ops-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await server.stop();
}
