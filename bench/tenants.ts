/**
 * 1,000 tenants, each asked for discovery and one client_credentials token (issue 9, scenario 7):
 * RSS before and after, and how many tenants the bounded pool evicted. Target: RSS growth
 * <= 300 MB with the pool bounded (TENANT_CACHE_SIZE, 200 here). Tessera runs with its other
 * defaults (LOG_LEVEL info). Any answer that is not 2xx fails the run.
 *   npx tsx bench/tenants.ts [count]
 */
import { basic, BenchFailure, main, saveResult } from './lib.ts';
import { startBenchServer } from './server.ts';

const COUNT = Number(process.argv[2] ?? 1000);
const CACHE = 200;
const API = 'https://api.bench.example';
await main(async () => {
  const server = await startBenchServer({ TENANT_CACHE_SIZE: String(CACHE) });
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return Number(line?.split(' ').pop() ?? NaN);
  };
  try {
    // the data first (a platform admin sets up every tenant), then the measured requests
    const clients: { slug: string; auth: string }[] = [];
    const queue = Array.from({ length: COUNT }, (_, i) => `t${String(i).padStart(4, '0')}`);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let slug = queue.shift(); slug; slug = queue.shift()) {
          await server.admin('POST', '/tenants', { slug, name: slug });
          await server.admin('POST', `/tenants/${slug}/resources`, { audience: API, name: 'api', scopes: ['read'] });
          await server.admin('POST', `/tenants/${slug}/roles`, { name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
          const c = await server.admin('POST', `/tenants/${slug}/clients`, {
            name: 'c',
            grantTypes: ['client_credentials'],
            roles: ['reader'],
            defaultResource: API,
          });
          clients.push({ slug, auth: `Basic ${basic(c.clientId!, c.clientSecret!)}` });
        }
      }),
    );
    if (global.gc) global.gc();
    const rssBefore = await metric('process_resident_memory_bytes');
    const evictionsBefore = await metric('tessera_tenant_pool_evictions_total');
    const started = Date.now();
    const failures: Record<string, number> = {};
    const fail = (what: string) => (failures[what] = (failures[what] ?? 0) + 1);
    const work = [...clients];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let c = work.shift(); c; c = work.shift()) {
          const d = await fetch(`${server.url}/t/${c.slug}/.well-known/openid-configuration`);
          const t = await server.form(`/t/${c.slug}/token`, { grant_type: 'client_credentials' }, c.auth);
          if (d.status !== 200) fail(`discovery ${d.status}`);
          if (typeof t.access_token !== 'string') fail(`token ${String(t.error)}`);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    if (Object.keys(failures).length) {
      throw new BenchFailure(
        `${COUNT} tenants: answers that were not 2xx: ${Object.entries(failures)
          .map(([k, n]) => `${n} × ${k}`)
          .join(', ')}`,
      );
    }
    const rssAfter = await metric('process_resident_memory_bytes');
    const result = {
      date: new Date().toISOString(),
      tenants: COUNT,
      cacheSize: CACHE,
      seconds: Math.round(seconds * 10) / 10,
      logLevel: server.proc.log().level,
      rssBeforeMb: Math.round(rssBefore / 1048576),
      rssAfterMb: Math.round(rssAfter / 1048576),
      rssGrowthMb: Math.round((rssAfter - rssBefore) / 1048576),
      poolSize: await metric('tessera_tenant_pool_size'),
      evictions: (await metric('tessera_tenant_pool_evictions_total')) - evictionsBefore,
      target: { rssGrowthMb: 300 },
    };
    console.table([result]);
    await saveResult('tenants', result);
  } finally {
    await server.stop();
  }
});
