/**
 * README promises (Configuration: TENANT_CACHE_SIZE; Metrics): at most TENANT_CACHE_SIZE tenants
 * stay in memory, the least recently used are dropped, an evicted tenant is rebuilt from the
 * database when asked again and serves exactly as before (its tokens stay valid), and the pool's
 * size, hits, misses and evictions are exported at /metrics.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, type Credentials } from '../helpers/department.ts';

const CACHE_SIZE = 2;
const SLUGS = ['cache-a', 'cache-b', 'cache-c', 'cache-d'];

/** the pool's gauges and counters from /metrics */
async function poolMetrics(base: string): Promise<{ size: number; hits: number; misses: number; evictions: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name: string) => {
    const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} is not in /metrics`);
    return Number(m[1]);
  };
  return {
    size: read('tessera_tenant_pool_size'),
    hits: read('tessera_tenant_pool_hits_total'),
    misses: read('tessera_tenant_pool_misses_total'),
    evictions: read('tessera_tenant_pool_evictions_total'),
  };
}

describe.each(BACKENDS)('TENANT_CACHE_SIZE on %s', (backend) => {
  let server: TestServer;
  let base: string;
  const jobs = new Map<string, Credentials>();
  const introspectors = new Map<string, Credentials>();

  beforeAll(async () => {
    server = await startTestServer(backend, { TENANT_CACHE_SIZE: String(CACHE_SIZE) });
    base = `http://127.0.0.1:${server.tessera.port}`;
    // created in-process: no request has loaded any tenant yet
    for (const slug of SLUGS) {
      const t = await server.tessera.services.tenants.create({ slug, name: `Tenant ${slug}` });
      const s = server.tessera.services.forTenant(t.id);
      await s.resources.create({ audience: API, name: 'API', scopes: ['read'] });
      await s.roles.create({ name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
      jobs.set(slug, (await s.clients.create({ name: 'job', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: API })) as Credentials);
      introspectors.set(slug, (await s.clients.create({ name: 'api', grantTypes: ['client_credentials'] })) as Credentials);
    }
  });
  afterAll(() => server?.stop());

  /** discovery, a token and its introspection at one tenant, all checked */
  const serve = async (slug: string) => {
    const disco = await fetch(`${base}/t/${slug}/.well-known/openid-configuration`);
    expect(disco.status, slug).toBe(200);
    const issuer = `${server.tessera.publicUrl}/t/${slug}`;
    expect(((await disco.json()) as { issuer: string }).issuer).toBe(issuer);
    const res = await tokenRequest(`${base}/t/${slug}/token`, { grant_type: 'client_credentials' }, jobs.get(slug)!);
    expect(res.status, `${slug}: ${JSON.stringify(res.body)}`).toBe(200);
    const token = res.body.access_token as string;
    expect(decodeJwt(token)).toMatchObject({ iss: issuer, tenant_id: slug, aud: API, scope: 'read' });
    return token;
  };
  const introspect = async (slug: string, token: string) =>
    (await tokenRequest(`${base}/t/${slug}/token/introspection`, { token }, introspectors.get(slug)!)).body;

  // README: "`TENANT_CACHE_SIZE` | `500` | tenants whose provider stays in memory (least recently
  // used are dropped)"; Metrics: "`tessera_tenant_pool_size`,
  // `tessera_tenant_pool_{hits,misses,evictions}_total` | | tenants in memory and the pool's
  // behaviour (raise `TENANT_CACHE_SIZE` if evictions climb)"
  it('keeps at most TENANT_CACHE_SIZE tenants, drops the least recently used, and reports it in /metrics', async () => {
    const start = await poolMetrics(base);
    expect(start.size).toBe(0);
    const tokens = new Map<string, string>();
    for (const slug of SLUGS) tokens.set(slug, await serve(slug));
    const filled = await poolMetrics(base);
    expect(filled.size).toBe(CACHE_SIZE);
    expect(filled.evictions - start.evictions).toBe(SLUGS.length - CACHE_SIZE);
    expect(filled.misses - start.misses).toBe(SLUGS.length);

    // in memory now: cache-c and cache-d. Using cache-c makes cache-d the least recently used
    await serve('cache-c');
    const touched = await poolMetrics(base);
    expect(touched.misses).toBe(filled.misses);
    expect(touched.evictions).toBe(filled.evictions);

    // cache-a was evicted: asking for it again rebuilds it from the database (a miss) and evicts cache-d
    const again = await serve('cache-a');
    const rebuilt = await poolMetrics(base);
    expect(rebuilt.misses).toBe(touched.misses + 1);
    expect(rebuilt.evictions).toBe(touched.evictions + 1);
    expect(rebuilt.size).toBe(CACHE_SIZE);
    // cache-c stayed (a hit), cache-d did not (a miss)
    await serve('cache-c');
    expect((await poolMetrics(base)).misses).toBe(rebuilt.misses);
    await serve('cache-d');
    expect((await poolMetrics(base)).misses).toBe(rebuilt.misses + 1);

    // the evicted tenant serves correctly: its new token and the one issued before the eviction
    // are both valid there, and unknown to another tenant
    for (const t of [tokens.get('cache-a')!, again]) {
      expect(await introspect('cache-a', t)).toMatchObject({ active: true, tenant_id: 'cache-a', iss: `${server.tessera.publicUrl}/t/cache-a` });
      expect(await introspect('cache-b', t)).toEqual({ active: false });
    }
  });

  it('serves a tenant correctly after every tenant has been evicted many times over', async () => {
    for (let round = 0; round < 3; round++) for (const slug of SLUGS) await serve(slug);
    const m = await poolMetrics(base);
    expect(m.size).toBe(CACHE_SIZE);
    expect(m.evictions).toBeGreaterThanOrEqual(SLUGS.length * 3);
    // the same signing key after every rebuild: a token from the first round still verifies
    const first = await serve('cache-b');
    for (const slug of SLUGS) await serve(slug);
    expect(await introspect('cache-b', first)).toMatchObject({ active: true });
  });
});
