/**
 * Brute-force protection and load shedding (issue 4): per-address and per-account back-off with
 * 429 + Retry-After; the real user still signs in from another address; a login flood gets 503s
 * instead of unbounded latency while client_credentials keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest, type TokenResponse } from '../helpers/oauth.ts';
import { PASSWORDS, startDepartment, type Department } from './fixture.ts';

describe.each(BACKENDS)('brute-force protection on %s', (backend) => {
  let d: Department;
  beforeAll(async () => {
    d = await startDepartment(backend);
  });
  afterAll(() => d?.server.stop());

  const from = (address: string, username: string, password: string) =>
    tokenRequest(d.token, { grant_type: 'password', username, password }, d.webapp, { 'x-forwarded-for': address });

  it('locks an address after repeated failures, not the user elsewhere', async () => {
    let locked: TokenResponse | undefined;
    for (let i = 0; i < 10 && !locked; i++) {
      const res = await from('203.0.113.7', 'alice', `guess-${i}`);
      if (res.status === 429) locked = res;
      else expect(res.body.error).toBe('invalid_grant');
    }
    expect(locked, 'a lock within 10 failures').toBeDefined();
    expect(locked!.body.error).toBe('too_many_requests');
    expect(typeof locked!.body.error_description).toBe('string');
    expect(Number(locked!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // the right password from the locked address is refused too, without a verification
    const sameAddress = await from('203.0.113.7', 'alice', PASSWORDS.alice);
    expect(sameAddress.status).toBe(429);
    // the real user, from another address, signs in
    const elsewhere = await from('198.51.100.20', 'alice', PASSWORDS.alice);
    expect(elsewhere.status).toBe(200);
  });

  it('does not extend a lock while it is being hammered', async () => {
    let first = 0;
    for (let i = 0; i < 10 && !first; i++) {
      const res = await from('203.0.113.50', 'victor', `nope-${i}`);
      if (res.status === 429) first = Number(res.headers.get('retry-after'));
    }
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      const res = await from('203.0.113.50', 'victor', `nope-again-${i}`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(first);
    }
    const lockouts = await d.server.tessera.db.prisma.auditEvent.count({ where: { tenantId: d.tenantId, type: 'signin.lockout' } });
    expect(lockouts).toBeGreaterThan(0);
  });

  it('locks an account attacked from many addresses only briefly', async () => {
    let res: TokenResponse | undefined;
    for (let i = 0; i < 30; i++) {
      res = await from(`192.0.2.${i + 1}`, 'nobody-in-particular', `x-${i}`);
      if (res.status === 429) break;
    }
    expect(res!.status).toBe(429);
    // the per-account lock is capped at a minute
    expect(Number(res!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe('a login flood', () => {
  let d: Department;
  beforeAll(async () => {
    // production argon2 parameters, one argon2 job at a time and a short queue
    d = await startDepartment('pglite', {
      ARGON2_MEMORY_KIB: '19456',
      ARGON2_TIME_COST: '2',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '4',
    });
  });
  afterAll(() => d?.server.stop());

  it('sheds load with 503 while client_credentials, discovery and JWKS keep answering', async () => {
    const flood = Array.from({ length: 40 }, (_, i) =>
      tokenRequest(d.token, { grant_type: 'password', username: `user${i}`, password: 'wrong-password' }, d.webapp, {
        'x-forwarded-for': `10.1.${i >> 8}.${i & 255}`,
      }),
    );
    const others = Array.from({ length: 10 }, async () => {
      const cc = await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine);
      const disco = await fetch(`${d.server.url}/t/dept/.well-known/openid-configuration`);
      const jwks = await fetch(`${d.server.url}/t/dept/jwks`);
      return [cc.status, disco.status, jwks.status];
    });
    const [floodResults, otherResults] = await Promise.all([Promise.all(flood), Promise.all(others)]);
    for (const statuses of otherResults) expect(statuses).toEqual([200, 200, 200]);
    const statuses = floodResults.map((r) => r.status);
    expect(statuses.every((s) => s === 400 || s === 503)).toBe(true);
    const shed = floodResults.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      expect(r.body.error).toBe('temporarily_unavailable');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('without its shared store', () => {
  let d: Department;
  beforeAll(async () => {
    const { freePort } = await import('../helpers/process.ts');
    // nothing listens there: the store is unreachable from the start
    d = await startDepartment('pglite', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  });
  afterAll(() => d?.server.stop());

  it('answers 503 to sign-ins rather than sign in without rate limits', async () => {
    const res = await tokenRequest(d.token, { grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, d.webapp);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.headers.get('retry-after')).toBeTruthy();
    // machine tokens do not depend on the store
    const cc = await tokenRequest(d.token, { grant_type: 'client_credentials' }, d.machine);
    expect(cc.status).toBe(200);
  });
});
