/**
 * signIn, the one place that checks a username and password (password grant and login page):
 * the guard first, one argon2 verification even for unknown users, the same failure for unknown,
 * wrong and disabled, audit events, the rehash, and what counts against the brute-force counters.
 * Real argon2 (cheap parameters) and the real guard on the in-process store; fake repositories.
 */
import { errors } from 'oidc-provider';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRepos } from '../repositories/index.ts';
import type { UserRow } from '../repositories/users.ts';
import { createLoginGuard } from '../security/login-guard.ts';
import { createPasswordHasher } from '../security/passwords.ts';
import { OverloadedError } from '../security/work-limiter.ts';
import { createMemoryStore } from '../store/memory.ts';
import { StoreUnavailableError, type Store } from '../store/types.ts';
import { TemporarilyUnavailable, TooManyRequests } from './errors.ts';
import {
  confirmPassword,
  ENROL_IN_BROWSER,
  INVALID_CREDENTIALS,
  lacksSecondFactor,
  secondFactor,
  signIn,
  TEMPORARY_PASSWORD,
  type SignInDeps,
} from './sign-in.ts';

const cheap = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const passwords = createPasswordHasher(cheap);
const policy = {
  address: { free: 3, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
  account: { free: 5, baseMs: 60_000, maxMs: 60_000, windowMs: 60_000 },
  waitMs: 2_000,
};

interface Fake {
  deps: SignInDeps;
  audit: { type: string; actor: string; target?: string | null; data?: unknown }[];
  rehashed: { id: string; hash: string; previous: string }[];
  users: Map<string, UserRow>;
  lookups: string[];
  store: Store;
}

async function fake(store: Store = createMemoryStore()): Promise<Fake> {
  const created = new Date('2026-01-01T00:00:00Z');
  const users = new Map<string, UserRow>();
  const add = async (username: string, password: string, extra: Partial<UserRow> = {}) =>
    users.set(username.toLowerCase(), {
      id: `id-${username}`,
      username,
      email: null,
      passwordHash: await passwords.hash(password),
      disabled: false,
      roles: ['viewer'],
      passwordChangedAt: created,
      mustChangePassword: false,
      totpSealed: null,
      totpFailures: 0,
      securityVersion: 0,
      passkeyCount: 0,
      recoveryCodesLeft: 0,
      createdAt: created,
      ...extra,
    });
  await add('ann', 'ann-password');
  await add('dan', 'dan-password', { disabled: true });
  const audit: Fake['audit'] = [];
  const rehashed: Fake['rehashed'] = [];
  const lookups: string[] = [];
  const repos = {
    users: {
      findByUsername: async (name: string) => {
        lookups.push(name);
        return users.get(name.toLowerCase()) ?? null;
      },
      updatePasswordHash: async (id: string, hash: string, previous: string) => void rehashed.push({ id, hash, previous }),
    },
    audit: { record: async (e: Fake['audit'][number]) => void audit.push(e) },
  } as unknown as TenantRepos;
  return {
    deps: {
      tenantId: 't1',
      repos,
      passwords,
      guard: createLoginGuard(store, policy),
      pseudonym: (u) => `P(${u})`,
      onServerError: () => {},
      verifyCode: async () => null,
      mfaPolicy: () => ({ require: 'none', roles: [] }),
    },
    audit,
    rehashed,
    users,
    lookups,
    store,
  };
}

const attempt = (username: string, password: string, address = '192.0.2.1') => ({ username, password, address, clientId: 'app', channel: 'grant' as const });

describe('signIn when the audit trail cannot be written', () => {
  it('answers as usual and reports each lost event', async () => {
    const f = await fake();
    const lost: Error[] = [];
    const down = new Error('audit insert failed');
    const deps = {
      ...f.deps,
      repos: { ...f.deps.repos, audit: { record: async () => Promise.reject(down) } } as unknown as TenantRepos,
      onServerError: (err: Error) => void lost.push(err),
    };
    await expect(signIn(deps, attempt('ann', 'wrong'))).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(lost).toEqual([down]);
    expect((await signIn(deps, attempt('ann', 'ann-password'))).user.id).toBe('id-ann');
    expect(lost).toEqual([down, down]);
  });
});

describe('signIn', () => {
  let f: Fake;
  beforeEach(async () => {
    f = await fake();
  });

  it('returns the user for the right password, and audits the success', async () => {
    const { user } = await signIn(f.deps, attempt('ann', 'ann-password'));
    expect(user.id).toBe('id-ann');
    expect(f.audit).toEqual([{ type: 'signin.success', actor: 'user:id-ann', target: 'user:id-ann', data: { client_id: 'app', amr: 'pwd' } }]);
  });

  it('refuses a wrong password, an unknown user and a disabled user identically', async () => {
    for (const [username, password] of [
      ['ann', 'wrong-password'],
      ['nobody', 'whatever'],
      ['dan', 'dan-password'],
    ] as const) {
      const err = await signIn(f.deps, attempt(username, password, `198.51.100.${username.length}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.InvalidGrant);
      expect((err as errors.InvalidGrant).error_detail).toBe(INVALID_CREDENTIALS);
    }
    expect(f.audit).toEqual([
      { type: 'signin.failure', actor: 'user:id-ann', target: 'user:id-ann', data: { client_id: 'app', reason: 'invalid_credentials' } },
      { type: 'signin.failure', actor: 'username:P(nobody)', target: 'username:P(nobody)', data: { client_id: 'app', reason: 'invalid_credentials' } },
      { type: 'signin.failure', actor: 'user:id-dan', target: 'user:id-dan', data: { client_id: 'app', reason: 'disabled' } },
    ]);
  });

  it('refuses a name no user can have without looking it up or counting it', async () => {
    for (const username of ['', 'a\u0000b', 'x'.repeat(201), '   ']) {
      await expect(signIn(f.deps, attempt(username, 'x'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    }
    expect(f.lookups).toEqual([]);
    expect(f.audit).toEqual([]);
    // nothing was counted: the address still has its whole allowance
    for (let i = 0; i < 3; i++) await expect(signIn(f.deps, attempt('ann', `wrong-${i}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(f.deps, attempt('ann', 'ann-password'))).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('locks after the allowance: the attempt that reaches it is audited as a lockout, the next is refused unseen', async () => {
    for (let i = 0; i < 3; i++) await expect(signIn(f.deps, attempt('ann', `wrong-${i}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    const lockouts = f.audit.filter((e) => e.type === 'signin.lockout');
    expect(lockouts).toEqual([{ type: 'signin.lockout', actor: 'user:id-ann', target: 'user:id-ann', data: { client_id: 'app', scope: 'address' } }]);
    const before = f.lookups.length;
    const locked = await signIn(f.deps, attempt('ann', 'ann-password')).catch((e: unknown) => e);
    expect(locked).toBeInstanceOf(TooManyRequests);
    expect((locked as TooManyRequests).retryAfter).toBe(60);
    expect(f.lookups.length).toBe(before);
    // another address is not locked
    expect((await signIn(f.deps, attempt('ann', 'ann-password', '198.51.100.9'))).user.id).toBe('id-ann');
  });

  it("counts a disabled user's right password like a wrong one", async () => {
    for (let i = 0; i < 3; i++) await expect(signIn(f.deps, attempt('dan', 'dan-password'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(f.deps, attempt('dan', 'dan-password'))).rejects.toBeInstanceOf(TooManyRequests);
  });

  it("gives a success's count back to the address and clears the account", async () => {
    await expect(signIn(f.deps, attempt('ann', 'wrong-1'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(f.deps, attempt('ann', 'wrong-2'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await signIn(f.deps, attempt('ann', 'ann-password'));
    await signIn(f.deps, attempt('ann', 'ann-password'));
    // two failures still counted at the address (successes gave theirs back): one more is allowed
    await expect(signIn(f.deps, attempt('nobody', 'x'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(f.deps, attempt('ann', 'ann-password'))).rejects.toBeInstanceOf(TooManyRequests);
  });

  // found by the benchmarks: when attempts were counted before the verification and given back
  // after, eight staff signing in at once from one address locked it for everyone
  it('signs in parallel right passwords from one address, however many are under way at once', async () => {
    const slow = {
      ...f.deps,
      passwords: { ...passwords, verify: async (h: string | undefined, p: string) => (await new Promise((r) => setTimeout(r, 30)), passwords.verify(h, p)) },
    };
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => signIn(slow, attempt('ann', 'ann-password'))));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill('fulfilled'));
    // and the address's allowance is whole afterwards
    for (let i = 0; i < 2; i++) await expect(signIn(f.deps, attempt('nobody', `x${i}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect((await signIn(f.deps, attempt('ann', 'ann-password'))).user.id).toBe('id-ann');
  });

  it('evaluates no more parallel wrong guesses than the allowance', async () => {
    let verified = 0;
    const counting = {
      ...f.deps,
      passwords: {
        ...passwords,
        verify: async (h: string | undefined, p: string) => (verified++, await new Promise((r) => setTimeout(r, 10)), passwords.verify(h, p)),
      },
    };
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => signIn(counting, attempt('ann', `guess-${i}`))));
    expect(verified).toBe(3);
    const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof TooManyRequests);
    expect(refused).toHaveLength(37);
  });

  it('refuses an attempt that found every slot held for longer than it waits', async () => {
    const waiting: ((ok: boolean) => void)[] = [];
    const stuck = { ...f.deps, passwords: { ...passwords, verify: () => new Promise<boolean>((r) => void waiting.push(r)) } };
    const impatient = { ...f.deps, guard: createLoginGuard(f.store, { ...policy, waitMs: 100 }) };
    const held = Array.from({ length: 3 }, (_, i) => signIn(stuck, attempt('nobody', `x${i}`)).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 20));
    const err = await signIn(impatient, attempt('ann', 'ann-password')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequests);
    expect((err as TooManyRequests).retryAfter).toBe(1);
    expect((err as TooManyRequests).error_description).toBe('too many sign-ins in progress; try again shortly');
    expect(waiting).toHaveLength(3);
    for (const release of waiting) release(false);
    await Promise.all(held);
  });

  it('keeps the old hash when rehashing fails, and signs in anyway', async () => {
    const failing = { ...f.deps, passwords: { ...passwords, needsRehash: () => true, hash: () => Promise.reject(new Error('argon2 overloaded')) } };
    expect((await signIn(failing, attempt('ann', 'ann-password'))).user.id).toBe('id-ann');
    expect(f.rehashed).toEqual([]);
  });

  it('does not wait for a user whose password never changed', async () => {
    // created (and its password set) one millisecond ago: a wait for the next second would be 999 ms
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const created = new Date('2026-11-29T12:00:00.000Z');
      vi.setSystemTime(new Date(created.getTime() + 1));
      f.users.set('ann', { ...f.users.get('ann')!, passwordChangedAt: created, createdAt: created });
      const started = performance.now();
      await signIn(f.deps, attempt('ann', 'ann-password'));
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      vi.useRealTimers();
    }
  });

  it("clears the account's failures at a success: they count again from zero", async () => {
    // the account allows 5 failures; from five addresses, so that no address locks
    for (let i = 0; i < 4; i++) await expect(signIn(f.deps, attempt('ann', `wrong-${i}`, `198.51.100.${i + 1}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await signIn(f.deps, attempt('ann', 'ann-password', '198.51.100.50'));
    for (let i = 0; i < 4; i++) await expect(signIn(f.deps, attempt('ann', `again-${i}`, `198.51.100.${i + 10}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(f.audit.filter((e) => e.type === 'signin.lockout')).toEqual([]);
    expect((await signIn(f.deps, attempt('ann', 'ann-password', '198.51.100.51'))).user.id).toBe('id-ann');
  });

  it('says only "invalid username or password", in the detail the logs see', async () => {
    await expect(signIn(f.deps, attempt('ann', 'wrong'))).rejects.toMatchObject({ error: 'invalid_grant', error_detail: 'invalid username or password' });
  });

  it('rehashes a password stored with other parameters, only after a success', async () => {
    const old = await createPasswordHasher({ ...cheap, timeCost: 2 }).hash('ann-password');
    f.users.set('ann', { ...f.users.get('ann')!, passwordHash: old });
    await expect(signIn(f.deps, attempt('ann', 'wrong'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(f.rehashed).toEqual([]);
    await signIn(f.deps, attempt('ann', 'ann-password'));
    expect(f.rehashed).toHaveLength(1);
    expect(f.rehashed[0]).toMatchObject({ id: 'id-ann', previous: old });
    expect(f.rehashed[0]!.hash).toMatch(/^\$argon2id\$v=19\$m=8192,p=1,t=1\$/);
    expect(await passwords.verify(f.rehashed[0]!.hash, 'ann-password')).toBe(true);
    // a current hash is left alone
    f.rehashed.length = 0;
    f.users.set('ann', { ...f.users.get('ann')!, passwordHash: await passwords.hash('ann-password') });
    await signIn(f.deps, attempt('ann', 'ann-password'));
    expect(f.rehashed).toEqual([]);
  });

  it('waits for the next second after a password change made in this one', async () => {
    const now = new Date();
    f.users.set('ann', { ...f.users.get('ann')!, passwordChangedAt: now, createdAt: new Date(now.getTime() - 60_000) });
    await signIn(f.deps, attempt('ann', 'ann-password'));
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(Math.floor(now.getTime() / 1000));
  });

  it('answers 503, counting nothing, when argon2 is overloaded or the counters are unreachable', async () => {
    const busy = { ...f.deps, passwords: { ...passwords, verify: async () => Promise.reject(new OverloadedError()) } };
    for (let i = 0; i < 5; i++) {
      const err = await signIn(busy, attempt('ann', 'ann-password')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TemporarilyUnavailable);
      expect((err as TemporarilyUnavailable).retryAfter).toBe(1);
    }
    // none of those counted
    expect((await signIn(f.deps, attempt('ann', 'ann-password'))).user.id).toBe('id-ann');
    const down = {
      ...f.deps,
      guard: createLoginGuard({ ...createMemoryStore(), reserveAttempt: () => Promise.reject(new StoreUnavailableError()) } as Store, policy),
    };
    const err = await signIn(down, attempt('ann', 'ann-password')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporarilyUnavailable);
    expect((err as TemporarilyUnavailable).retryAfter).toBe(5);
    expect((err as TemporarilyUnavailable).error_description).toBe('sign-in is temporarily unavailable');
  });

  it('lets a database failure through as it is (the caller answers 503), counting nothing', async () => {
    const broken = { ...f.deps, repos: { ...f.deps.repos, users: { findByUsername: () => Promise.reject(new Error('db down')) } } as unknown as TenantRepos };
    for (let i = 0; i < 5; i++) await expect(signIn(broken, attempt('ann', 'ann-password'))).rejects.toThrow('db down');
    expect((await signIn(f.deps, attempt('ann', 'ann-password'))).user.id).toBe('id-ann');
  });
});

describe('signIn with a second factor (issue 16)', () => {
  /** `ann` has an authenticator: the fake accepts `123456` once per call to `codes`, `recovery-1` once */
  async function withFactor(policyOf: SignInDeps['mfaPolicy'] = () => ({ require: 'none', roles: [] })) {
    const f = await fake();
    const checked: { code: string; commit: boolean | undefined; user: string | null }[] = [];
    const used = new Set<string>();
    f.users.set('ann', { ...f.users.get('ann')!, totpSealed: 'sealed', recoveryCodesLeft: 1 });
    const deps: SignInDeps = {
      ...f.deps,
      mfaPolicy: policyOf,
      verifyCode: async (user, code, commit) => {
        checked.push({ code, commit, user: user?.id ?? null });
        if (!user || commit === false || used.has(code)) return null;
        if (code === '123456') return used.add(code) && 'totp';
        if (code === 'recovery-1') return used.add(code) && 'recovery';
        return null;
      },
    };
    return { f, deps, checked };
  }
  const grant = (username: string, password: string, otp?: string, address = '192.0.2.1') => ({
    ...attempt(username, password, address),
    ...(otp ? { otp } : {}),
  });
  const browser = (username: string, password: string, address = '192.0.2.1') => ({ ...attempt(username, password, address), channel: 'browser' as const });

  it('the grant wants the code with the password; missing, wrong or replayed is the same invalid_grant', async () => {
    const { f, deps, checked } = await withFactor();
    for (const [i, otp] of [undefined, '654321', 'not-a-code'].entries()) {
      const err = await signIn(deps, grant('ann', 'ann-password', otp, `203.0.113.${i + 1}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.InvalidGrant);
      expect((err as errors.InvalidGrant).error_detail).toBe(INVALID_CREDENTIALS);
    }
    const ok = await signIn(deps, grant('ann', 'ann-password', '123456', '203.0.113.10'));
    expect(ok.amr).toEqual(['pwd', 'otp', 'mfa']);
    await expect(signIn(deps, grant('ann', 'ann-password', '123456', '203.0.113.11'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(f.audit.filter((e) => e.type === 'signin.mfa_failure').map((e) => (e.data as { reason: string }).reason)).toEqual([
      'missing_code',
      'invalid_code',
      'invalid_code',
      'invalid_code',
    ]);
    expect(f.audit.filter((e) => e.type === 'signin.success')).toEqual([
      { type: 'signin.success', actor: 'user:id-ann', target: 'user:id-ann', data: { client_id: 'app', amr: 'pwd otp mfa' } },
    ]);
    // the code is looked at with the right password only to be consumed
    expect(checked.map((c) => c.commit)).toEqual([true, true, true, true]);
  });

  it('checks a code sent with a wrong password without consuming it, and counts the attempt', async () => {
    const { f, deps, checked } = await withFactor();
    await expect(signIn(deps, grant('ann', 'wrong-password', '123456'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(checked).toEqual([{ code: '123456', commit: false, user: 'id-ann' }]);
    expect(f.audit.map((e) => e.type)).toEqual(['signin.failure']);
    // the code was not used up
    expect((await signIn(deps, grant('ann', 'ann-password', '123456'))).amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('counts wrong codes like wrong passwords: the address locks after its allowance', async () => {
    const { deps } = await withFactor();
    for (let i = 0; i < 3; i++) await expect(signIn(deps, grant('ann', 'ann-password', `00000${i}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(deps, grant('ann', 'ann-password', '123456'))).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('the login page checks the password alone and clears nothing for a user with a factor', async () => {
    const { f, deps, checked } = await withFactor();
    // 4 failures on the account (of 5), from different addresses
    for (let i = 0; i < 4; i++) await expect(signIn(deps, browser('ann', `wrong-${i}`, `198.51.100.${i + 1}`))).rejects.toBeInstanceOf(errors.InvalidGrant);
    const first = await signIn(deps, browser('ann', 'ann-password', '198.51.100.20'));
    expect(first).toMatchObject({ amr: ['pwd'], secondFactorDue: true, enrolmentDue: false });
    expect(checked).toEqual([]);
    // no success recorded yet, and the account's failures are still there: one more locks it
    expect(f.audit.filter((e) => e.type === 'signin.success')).toEqual([]);
    await expect(signIn(deps, browser('ann', 'wrong-5', '198.51.100.21'))).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(signIn(deps, browser('ann', 'ann-password', '198.51.100.22'))).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('secondFactor: a wrong code counts on the account and the address; the right one signs in and clears', async () => {
    const { f, deps } = await withFactor();
    const ann = f.users.get('ann')!;
    const step = (code: string, address = '192.0.2.9') => secondFactor(deps, { user: ann, code, address, clientId: 'app' });
    await expect(step('000000')).rejects.toMatchObject({ error: 'invalid_grant', error_detail: 'invalid authentication code' });
    await expect(step('000001')).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await step('recovery-1')).toEqual({ kind: 'recovery', amr: ['pwd', 'otp', 'mfa'] });
    expect(f.audit.filter((e) => e.type === 'signin.mfa_failure')).toHaveLength(2);
    await expect(step('000002')).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(step('123456')).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('refuses the grant to a user the policy covers without a factor, and to a temporary password, saying why', async () => {
    const covered = await withFactor(() => ({ require: 'roles', roles: ['viewer'] }));
    covered.f.users.set('ann', { ...covered.f.users.get('ann')!, totpSealed: null });
    const err = await signIn(covered.deps, grant('ann', 'ann-password')).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'invalid_grant', error_description: ENROL_IN_BROWSER });
    expect(covered.f.audit.at(-1)).toMatchObject({ type: 'signin.failure', data: { reason: 'mfa_enrolment_required' } });
    // the browser is asked to enrol instead
    expect(await signIn(covered.deps, browser('ann', 'ann-password', '192.0.2.50'))).toMatchObject({ enrolmentDue: true, secondFactorDue: false });
    // not covered: the role is another
    const other = await withFactor(() => ({ require: 'roles', roles: ['analyst'] }));
    other.f.users.set('ann', { ...other.f.users.get('ann')!, totpSealed: null });
    expect((await signIn(other.deps, grant('ann', 'ann-password'))).amr).toEqual(['pwd']);

    const temporary = await withFactor();
    temporary.f.users.set('ann', { ...temporary.f.users.get('ann')!, totpSealed: null, mustChangePassword: true });
    await expect(signIn(temporary.deps, grant('ann', 'ann-password'))).rejects.toMatchObject({ error: 'invalid_grant', error_description: TEMPORARY_PASSWORD });
    expect(temporary.f.audit.at(-1)).toMatchObject({ type: 'signin.failure', data: { reason: 'temporary_password' } });
  });

  it('confirmPassword: right is true and clears nothing; wrong is false and counts', async () => {
    const { f, deps } = await withFactor();
    const ann = f.users.get('ann')!;
    const confirm = (password: string) => confirmPassword(deps, { user: ann, password, address: '192.0.2.77' });
    expect(await confirm('ann-password')).toBe(true);
    expect(await confirm('wrong')).toBe(false);
    expect(f.audit.at(-1)).toMatchObject({ type: 'signin.failure', data: { reason: 'reauthentication', client_id: 'tessera-account' } });
    expect(await confirm('wrong')).toBe(false);
    expect(await confirm('wrong')).toBe(false);
    await expect(confirm('ann-password')).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('lacksSecondFactor: a sign-in without mfa, of a user who has a factor or whom the policy covers', () => {
    const none = { require: 'none' as const, roles: [] };
    const user = (totp: boolean, passkeys = 0, roles = ['viewer']) => ({ totpSealed: totp ? 's' : null, passkeyCount: passkeys, roles });
    expect(lacksSecondFactor(user(true), ['pwd'], none)).toBe(true);
    expect(lacksSecondFactor(user(false, 1), ['pwd'], none)).toBe(true);
    expect(lacksSecondFactor(user(false), undefined, none)).toBe(false);
    expect(lacksSecondFactor(user(true), ['pwd', 'otp', 'mfa'], none)).toBe(false);
    expect(lacksSecondFactor(user(true), undefined, none)).toBe(true);
    expect(lacksSecondFactor(user(false), ['pwd'], { require: 'all', roles: [] })).toBe(true);
    expect(lacksSecondFactor(user(false), ['pwd'], { require: 'roles', roles: ['viewer'] })).toBe(true);
    expect(lacksSecondFactor(user(false), ['pwd'], { require: 'roles', roles: ['analyst'] })).toBe(false);
  });
});
