/**
 * /metrics speaks Prometheus text after a few token requests: tokens by tenant, grant and
 * outcome, the token-endpoint latency histogram, sign-in failures and lockouts, rate-limit
 * rejections, introspections, revocations, the tenant pool, dependency errors and process
 * metrics. With METRICS_TOKEN set it wants that Bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { BACKENDS } from '../helpers/tessera.ts';
import { PASSWORDS, startDepartment, type Department } from '../signin/fixture.ts';

/** the value of one sample, e.g. sample(text, 'tessera_token_requests_total', {tenant: 'dept'}) */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(m[3]);
      found = true;
    }
  }
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return total;
}

describe.each(BACKENDS)('metrics on %s', (backend) => {
  let d: Department;
  let text: string;
  beforeAll(async () => {
    d = await startDepartment(backend, { METRICS_TOKEN: 'metrics-bearer-secret-0123456789' });
    const disco = await discover(d.server.url, 'dept');
    const cc = () => tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine);
    for (let i = 0; i < 3; i++) expect((await cc()).status).toBe(200);
    expect((await tokenRequest(d.token, { grant_type: 'client_credentials' }, { ...d.machine, clientSecret: 'wrong-secret' })).status).toBe(401);
    const signedIn = await tokenRequest(d.token, { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, d.webapp);
    expect(signedIn.status).toBe(200);
    // failures from one address until it is locked, then one more (a 429)
    let locked = false;
    for (let i = 0; i < 12 && !locked; i++) {
      const res = await tokenRequest(d.token, { grant_type: 'password', username: 'victor', password: `guess-${i}` }, d.webapp, {
        'x-forwarded-for': '203.0.113.9',
      });
      locked = res.status === 429;
    }
    expect(locked).toBe(true);
    const introspect = await tokenRequest(disco.introspection_endpoint!, { token: signedIn.body.access_token as string }, d.machine);
    expect(introspect.status).toBe(200);
    const revoke = await fetch(disco.revocation_endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${d.webapp.clientId}:${d.webapp.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: signedIn.body.refresh_token as string }),
    });
    expect(revoke.status).toBe(200);
    const res = await fetch(`${d.server.url}/metrics`, { headers: { authorization: 'Bearer metrics-bearer-secret-0123456789' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  afterAll(() => d?.server.stop());

  it('wants the Bearer token when METRICS_TOKEN is set', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic bWV0cmljcw==' }] as Record<string, string>[]) {
      const res = await fetch(`${d.server.url}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('tessera_');
    }
  });

  it('counts tokens by tenant, grant and outcome, with latency', () => {
    expect(sample(text, 'tessera_token_requests_total', { tenant: 'dept', grant_type: 'client_credentials', outcome: 'issued' })).toBe(3);
    expect(sample(text, 'tessera_token_requests_total', { tenant: 'dept', grant_type: 'client_credentials', outcome: 'invalid_client' })).toBe(1);
    expect(sample(text, 'tessera_token_requests_total', { tenant: 'dept', grant_type: 'password', outcome: 'issued' })).toBe(1);
    expect(sample(text, 'tessera_token_requests_total', { tenant: 'dept', grant_type: 'password', outcome: 'invalid_grant' })).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'tessera_token_requests_total', { tenant: 'dept', grant_type: 'password', outcome: 'too_many_requests' })).toBe(1);
    expect(sample(text, 'tessera_token_request_duration_seconds_count', { tenant: 'dept', grant_type: 'client_credentials' })).toBe(4);
    expect(sample(text, 'tessera_token_request_duration_seconds_bucket', { tenant: 'dept', grant_type: 'password', le: '+Inf' })).toBeGreaterThanOrEqual(7);
    expect(text).toContain('# TYPE tessera_token_request_duration_seconds histogram');
  });

  it('counts sign-in failures, lockouts and rate-limit rejections', () => {
    expect(sample(text, 'tessera_signin_failures_total', { tenant: 'dept' })).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'tessera_signin_lockouts_total', { tenant: 'dept' })).toBe(1);
    expect(sample(text, 'tessera_rate_limited_total', { tenant: 'dept', route: '/t/:tenant/token' })).toBe(1);
    expect(sample(text, 'tessera_audit_events_total', { type: 'signin.success' })).toBe(1);
  });

  it('counts introspections and revocations', () => {
    expect(sample(text, 'tessera_introspection_requests_total', { tenant: 'dept', status: '200' })).toBe(1);
    expect(sample(text, 'tessera_revocation_requests_total', { tenant: 'dept', status: '200' })).toBe(1);
  });

  it('reports the tenant pool, dependency errors and process metrics', () => {
    expect(sample(text, 'tessera_tenant_pool_size')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tessera_tenant_pool_hits_total')).toBeGreaterThan(10);
    expect(sample(text, 'tessera_tenant_pool_misses_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tessera_tenant_pool_evictions_total')).toBe(0);
    expect(sample(text, 'tessera_dependency_errors_total', { dependency: 'database' })).toBe(0);
    expect(sample(text, 'tessera_dependency_errors_total', { dependency: 'redis' })).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'tessera_http_requests_total', { area: 'oidc', status: '200' })).toBeGreaterThan(3);
  });
});
