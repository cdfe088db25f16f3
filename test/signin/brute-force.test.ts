/**
 * Brute-force protection and load shedding (issue 4): per-address and per-account back-off with
 * 429 + Retry-After; the real user still signs in from another address; a login flood gets 503s
 * instead of unbounded latency while client_credentials keeps answering.
 *
 * The schedule (DEFAULT_LOGIN_POLICY in src/security/login-guard.ts) is asserted exactly: the 5th
 * failure from an address is still verified and answered invalid_grant, and starts a 2 s lock, so
 * the 6th attempt is refused; each failure after a lock ran out doubles it, up to 15 minutes. Per
 * account (from any number of addresses): the 20th failure starts a 1 s lock, doubling up to 60 s.
 * Nobody waits for a lock: the test reads the lock's time left from the store and ends it there
 * (test/helpers/timetravel-login-locks.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { tokenRequest, type TokenResponse } from '../helpers/oauth.ts';
import { loginLocks, type LockScope } from '../helpers/timetravel-login-locks.ts';
import { PASSWORDS, startDepartment, type Department } from './fixture.ts';

describe.each(BACKENDS)('brute-force protection on %s', (backend) => {
  let d: Department;
  let locks: ReturnType<typeof loginLocks>;
  beforeAll(async () => {
    // TRUST_PROXY (set by the fixture), one hop: the address is the X-Forwarded-For entry we send
    d = await startDepartment(backend);
    locks = loginLocks(d.server.tessera.store, d.tenantId);
  });
  afterAll(() => d?.server.stop());

  const from = (address: string, username: string, password: string) =>
    tokenRequest(d.token, { grant_type: 'password', username, password }, d.webapp, { 'x-forwarded-for': address });

  const expectFailure = (res: TokenResponse) => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  };
  const expectRefused = (res: TokenResponse, retryAfterAtMost: number) => {
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('too_many_requests');
    expect(typeof res.body.error_description).toBe('string');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(retryAfterAtMost);
    return retryAfter;
  };
  /**
   * runs a failing attempt and checks the lock it starts: exactly `expectedMs` when it was set,
   * so what is left is at most that and at least that minus the time the request took
   */
  const failureLocksFor = async (scope: LockScope, value: string, attempt: () => Promise<TokenResponse>, expectedMs: number) => {
    const started = Date.now();
    expectFailure(await attempt());
    const left = await locks.left(scope, value);
    const elapsed = Date.now() - started;
    expect(left, `${scope} lock after this failure`).toBeLessThanOrEqual(expectedMs);
    expect(left, `${scope} lock after this failure (the attempt took ${elapsed} ms)`).toBeGreaterThanOrEqual(expectedMs - elapsed - 50);
  };
  const lockouts = async (actor: string) =>
    (await d.server.tessera.db.prisma.auditEvent.findMany({ where: { tenantId: d.tenantId, type: 'signin.lockout', actor } })).map(
      (e) => (e.data as { scope?: string }).scope,
    );

  it('locks an address at its 5th failure: the 5th is still answered, the 6th is refused, the user elsewhere is not', async () => {
    const address = '203.0.113.7';
    for (let i = 1; i <= 4; i++) {
      expectFailure(await from(address, 'alice', `guess-${i}`));
      expect(await locks.left('address', address)).toBe(0);
      expect(await locks.count('address', address)).toBe(i);
    }
    expect(await lockouts(`user:${d.users.alice}`)).toEqual([]);
    // the 5th failure is verified and answered like the others, and starts a 2 s lock
    await failureLocksFor('address', address, () => from(address, 'alice', 'guess-5'), 2_000);
    expect(await locks.count('address', address)).toBe(5);
    expect(await lockouts(`user:${d.users.alice}`)).toEqual(['address']);

    // the 6th attempt, even with the right password, is refused without a verification and without
    // being counted; the lock is held for a minute so a slow machine cannot see it run out here
    await locks.hold('address', address, 60_000);
    const sixth = await from(address, 'alice', PASSWORDS.alice);
    expect(expectRefused(sixth, 60)).toBeGreaterThanOrEqual(59);
    expect(await locks.count('address', address)).toBe(5);
    // the real user, from another address, signs in
    const elsewhere = await from('198.51.100.20', 'alice', PASSWORDS.alice);
    expect(elsewhere.status).toBe(200);
  });

  it('doubles the address lock each time a failure follows its end, up to 15 minutes', async () => {
    const address = '203.0.113.99';
    // a different username each time: only the address is counted more than once
    const attempt = (n: number) => () => from(address, `walker-${n}`, `wrong-${n}`);
    for (let n = 1; n <= 4; n++) expectFailure(await attempt(n)());
    expect(await locks.left('address', address)).toBe(0);
    // 5th: 2 s, 6th: 4 s, … 13th: 512 s, 14th: 1,024 s capped at 900 s, and 900 s from then on
    for (let n = 5; n <= 15; n++) {
      if (n > 5) {
        // while the lock runs (16 s and more: it cannot run out under this check), attempts are
        // refused and not counted; then its time runs out
        if (n >= 9) {
          expectRefused(await attempt(n)(), Math.min(900, 2 * 2 ** (n - 6)));
          expect(await locks.count('address', address)).toBe(n - 1);
        }
        await locks.expire('address', address);
      }
      await failureLocksFor('address', address, attempt(n), Math.min(900_000, 2_000 * 2 ** (n - 5)));
      expect(await locks.count('address', address)).toBe(n);
    }
    expect(expectRefused(await attempt(16)(), 900)).toBeGreaterThanOrEqual(899);
  });

  it('does not extend a lock while it is being hammered', async () => {
    const address = '203.0.113.50';
    for (let i = 1; i <= 4; i++) expectFailure(await from(address, 'victor', `nope-${i}`));
    await failureLocksFor('address', address, () => from(address, 'victor', 'nope-5'), 2_000);
    await locks.hold('address', address, 30_000);
    const first = expectRefused(await from(address, 'victor', 'nope-again-0'), 30);
    for (let i = 1; i <= 5; i++) {
      const res = await from(address, 'victor', `nope-again-${i}`);
      expect(expectRefused(res, first)).toBeLessThanOrEqual(first);
    }
    expect(await locks.left('address', address)).toBeLessThanOrEqual(30_000);
    expect(await locks.count('address', address)).toBe(5);
    expect(await lockouts(`user:${d.users.victor}`)).toEqual(['address']);
  });

  it('locks an account at its 20th failure from 20 addresses, 1 s doubling up to a minute', async () => {
    const username = 'nobody-in-particular';
    const addressOf = (n: number) => `192.0.2.${n}`;
    const attempt = (n: number) => () => from(addressOf(n), username, `x-${n}`);
    for (let n = 1; n <= 19; n++) {
      expectFailure(await attempt(n)());
      expect(await locks.left('account', username)).toBe(0);
      expect(await locks.count('account', username)).toBe(n);
    }
    // every address failed once: the forwarded address is what is counted, and none is locked
    expect(await locks.count('address', addressOf(7))).toBe(1);
    expect(await locks.left('address', addressOf(7))).toBe(0);
    // the 20th failure is still answered normally and starts a 1 s lock on the account
    await failureLocksFor('account', username, attempt(20), 1_000);
    await locks.hold('account', username, 30_000);
    // a 21st address is refused: the account is locked, wherever the attempt comes from
    expect(expectRefused(await attempt(21)(), 30)).toBeGreaterThanOrEqual(29);
    expect(await locks.count('account', username)).toBe(20);
    // the refused attempt gave its address count back
    expect(await locks.count('address', addressOf(21))).toBe(0);
    // 21st failure: 2 s, 22nd: 4 s, … 25th: 32 s, 26th: 64 s capped at 60 s, and 60 s from then on
    for (let n = 21; n <= 27; n++) {
      await locks.expire('account', username);
      await failureLocksFor('account', username, attempt(n), Math.min(60_000, 1_000 * 2 ** (n - 20)));
      expect(await locks.count('account', username)).toBe(n);
    }
    expect(expectRefused(await attempt(28)(), 60)).toBeGreaterThanOrEqual(59);
    const pseudonymous = await d.server.tessera.db.prisma.auditEvent.findMany({ where: { tenantId: d.tenantId, type: 'signin.lockout' } });
    expect(pseudonymous.filter((e) => (e.data as { scope?: string }).scope === 'account')).toHaveLength(8);
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
