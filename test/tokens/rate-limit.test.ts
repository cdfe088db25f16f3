/** Token-endpoint rate limits per client (its plan) and per tenant: 429 + Retry-After, RFC 6749-style body. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { API, startDepartment, type Department } from '../signin/fixture.ts';

describe.each(BACKENDS)('rate limits on %s', (backend) => {
  let d: Department;
  beforeAll(async () => {
    d = await startDepartment(backend, { TENANT_RATE_LIMIT_PER_HOUR: '40' });
  });
  afterAll(() => d?.server.stop());

  it("enforces a client's hourly plan", async () => {
    const s = d.server.tessera.services.forTenant(d.tenantId);
    const small = (await s.clients.create({
      name: 'plan 3/h',
      grantTypes: ['client_credentials'],
      roles: ['viewer'],
      defaultResource: API,
      rateLimitPerHour: 3,
    })) as { clientId: string; clientSecret: string };
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof tokenRequest>> | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await tokenRequest(d.token, { grant_type: 'client_credentials' }, small);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(limited!.body.error).toBe('too_many_requests');
    expect(typeof limited!.body.error_description).toBe('string');
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // other clients are not affected by this client's plan
    expect((await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine)).status).toBe(200);
    // raising the plan through the service takes effect at once
    await s.clients.update(small.clientId, { rateLimitPerHour: 100 });
    expect((await tokenRequest(d.token, { grant_type: 'client_credentials' }, small)).status).toBe(200);
  });

  it('enforces the tenant-wide limit across clients', async () => {
    const results: number[] = [];
    for (let i = 0; i < 45; i++) results.push((await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine)).status);
    expect(results).toContain(429);
    expect(results.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });
});
