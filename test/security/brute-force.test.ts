/**
 * Audit findings 4 and 5 (issue 13).
 * 4: with TRUST_PROXY=true the client picked its own address (Koa took the leftmost
 *    X-Forwarded-For entry): 12 wrong passwords with varying leftmost entries were never locked.
 *    Now the address is the entry TRUST_PROXY_HOPS places from the right, worked out once at the
 *    edge for every layer, and audit events record it.
 * 5: a parallel burst defeated the 5-failure lock (the lock was checked before argon2 and the
 *    failure counted after: 40 parallel guesses had 17–34 evaluated). Now each attempt is counted
 *    before it is verified, atomically with the lock check: exactly the allowance is evaluated.
 * On PGlite with the in-process store, and on PostgreSQL with Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest, type TokenResponse } from '../helpers/oauth.ts';
import { PASSWORDS, passwordGrant, startDept, type Dept } from './support.ts';

describe.each(BACKENDS)('client addresses and parallel guessing on %s', (backend) => {
  let d: Dept;
  beforeAll(async () => {
    d = await startDept(backend, { TRUST_PROXY: 'true' });
  });
  afterAll(() => d?.server.stop());

  const failuresFrom = (address: string) => d.server.tessera.db.prisma.auditEvent.count({ where: { tenantId: d.tenantId, type: 'signin.failure', address } });

  it('locks an address whatever the client puts to the left in X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await passwordGrant(d, 'alice', `wrong-${i}`, {}, { 'x-forwarded-for': `10.9.${i}.1, 203.0.113.9` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429, 429, 429, 429, 429]);
    // the audit trail records the address the proxy saw, never the client's claim
    expect(await failuresFrom('203.0.113.9')).toBe(5);
    const claimed = await d.server.tessera.db.prisma.auditEvent.count({ where: { tenantId: d.tenantId, address: { startsWith: '10.9.' } } });
    expect(claimed).toBe(0);
    // the real user, elsewhere, still signs in
    expect((await passwordGrant(d, 'alice', PASSWORDS.alice, {}, { 'x-forwarded-for': '198.51.100.30' })).status).toBe(200);
  });

  it('evaluates exactly 5 of 40 parallel wrong passwords from one address', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => passwordGrant(d, 'victor', `parallel-${i}`, {}, { 'x-forwarded-for': '203.0.113.40' })),
    );
    const count = (status: number) => results.filter((r) => r.status === status).length;
    expect({ rejected: count(400), locked: count(429) }).toEqual({ rejected: 5, locked: 35 });
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body.error).toBe('too_many_requests');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(await failuresFrom('203.0.113.40')).toBe(5);
  });

  // found by the benchmarks: attempts were counted before the verification and given back after,
  // so six staff signing in at once behind one address locked it with 429 for everyone
  it('signs in 16 parallel right passwords from one address, and the allowance is whole afterwards', async () => {
    const staff = ['alice', 'victor'] as const;
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => passwordGrant(d, staff[i % 2]!, PASSWORDS[staff[i % 2]!], {}, { 'x-forwarded-for': '203.0.113.16' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    expect(await failuresFrom('203.0.113.16')).toBe(0);
    for (let i = 0; i < 4; i++) expect((await passwordGrant(d, 'alice', `wrong-${i}`, {}, { 'x-forwarded-for': '203.0.113.16' })).status).toBe(400);
    expect((await passwordGrant(d, 'alice', PASSWORDS.alice, {}, { 'x-forwarded-for': '203.0.113.16' })).status).toBe(200);
  });

  it('evaluates exactly 20 of 40 parallel wrong passwords for one account from 40 addresses', async () => {
    const results: TokenResponse[] = await Promise.all(
      Array.from({ length: 40 }, (_, i) => passwordGrant(d, 'nobody-in-particular', `x-${i}`, {}, { 'x-forwarded-for': `192.0.2.${i + 1}` })),
    );
    expect(results.filter((r) => r.status === 400).length).toBe(20);
    expect(results.filter((r) => r.status === 429).length).toBe(20);
    // the refused attempts did not count against their addresses: each may still try
    const again = await passwordGrant(d, 'victor', PASSWORDS.victor, {}, { 'x-forwarded-for': '192.0.2.40' });
    expect(again.status).toBe(200);
  });

  it('takes the address two hops from the right behind two proxies', async () => {
    const two = await startDept(backend, { TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' });
    try {
      const res = await tokenRequest(two.disco.token_endpoint!, { grant_type: 'password', username: 'alice', password: 'wrong' }, two.webapp, {
        'x-forwarded-for': '6.6.6.6, 198.51.100.77, 10.0.0.2',
      });
      expect(res.status).toBe(400);
      const events = await two.server.tessera.db.prisma.auditEvent.findMany({
        where: { tenantId: two.tenantId, type: 'signin.failure' },
        select: { address: true },
      });
      expect(events.map((e) => e.address)).toEqual(['198.51.100.77']);
    } finally {
      await two.server.stop();
    }
  });
});
