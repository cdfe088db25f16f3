/**
 * Console sessions (issue 18) on the in-process store and a fake clock: the idle timeout renewed
 * by each request and capped by the absolute one, a new id at every sign-in, a sign-out that a
 * request in flight cannot undo, and the CSRF token bound to the session.
 */
import type { Context } from 'koa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { digest } from '../security/crypto.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { Store } from '../store/types.ts';
import { createConsoleSessions, type ConsoleSession } from './session.ts';

const T0 = new Date('2026-12-04T12:00:00Z').getTime();
const at = (ms: number) => vi.setSystemTime(T0 + ms);

/** a Koa context with a cookie jar, as much of it as the sessions use */
function browser() {
  const jar = new Map<string, string>();
  const set: { name: string; value: string | null; options: unknown }[] = [];
  const ctx = {
    cookies: {
      // as Koa's cookies without keys: a signed read finds nothing
      get: (name: string, options?: { signed?: boolean }) => (options?.signed === false ? jar.get(name) : undefined),
      set: (name: string, value: string | null, options: unknown) => {
        set.push({ name, value, options });
        if (value === null) jar.delete(name);
        else jar.set(name, value);
      },
    },
  } as unknown as Context;
  return { ctx, jar, set };
}

const SESSION: ConsoleSession = { userId: 'u1', version: 3, createdAt: T0, amr: ['pwd'] };

describe('console sessions', () => {
  let store: Store;
  const sessions = () =>
    createConsoleSessions({ store, tenantId: 't1', cookiePath: '/t/dept/console/', secure: true, key: 'k'.repeat(43), idleSeconds: 900, maxSeconds: 8 * 3600 });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
    store = createMemoryStore();
  });
  afterEach(async () => {
    await store.close();
    vi.useRealTimers();
  });

  it('sets a strict, path-scoped, secure cookie and keeps only a digest of its id', async () => {
    const b = browser();
    await sessions().begin(b.ctx, SESSION);
    const [cookie] = b.set;
    expect(cookie).toMatchObject({
      name: 'tessera.console',
      options: { httpOnly: true, sameSite: 'strict', secure: true, path: '/t/dept/console/', signed: false, overwrite: true },
    });
    expect(cookie!.value).toMatch(/^[\w-]{43}$/);
    expect(await store.get(`tessera:console:t1:${cookie!.value}`)).toBeNull();
    expect(JSON.parse((await store.get(`tessera:console:t1:${digest(cookie!.value!)}`))!)).toEqual(SESSION);
  });

  it('ends after the idle time without a request; each request renews it', async () => {
    const b = browser();
    const s = sessions();
    await s.begin(b.ctx, SESSION);
    at(899_000);
    expect(await s.current(b.ctx)).toMatchObject({ session: SESSION });
    at(899_000 + 899_000);
    expect(await s.current(b.ctx)).not.toBeNull();
    at(899_000 + 899_000 + 900_000);
    expect(await s.current(b.ctx)).toBeNull();
  });

  it('ends at the absolute time whatever the requests: the last renewal never reaches past it', async () => {
    const b = browser();
    const s = sessions();
    await s.begin(b.ctx, SESSION);
    const key = `tessera:console:t1:${digest(b.jar.get('tessera.console')!)}`;
    for (let t = 600_000; t < 8 * 3600_000; t += 600_000) {
      at(t);
      expect(await s.current(b.ctx), `at ${t}`).not.toBeNull();
    }
    // the renewal at 7 h 50 min: the 10 minutes left, not the 15 of an idle period
    expect(await store.ttl(key)).toBe(600_000);
    at(8 * 3600_000 - 1);
    expect(await s.current(b.ctx)).not.toBeNull();
    at(8 * 3600_000);
    expect(await s.current(b.ctx)).toBeNull();
  });

  it('ends a session past the absolute time even while its key still lives, and forgets the key', async () => {
    const b = browser();
    const s = sessions();
    await s.begin(b.ctx, SESSION);
    const key = `tessera:console:t1:${digest(b.jar.get('tessera.console')!)}`;
    at(8 * 3600_000 - 1);
    await store.set(key, JSON.stringify(SESSION), 60_000);
    expect(await s.current(b.ctx)).not.toBeNull();
    at(8 * 3600_000);
    await store.set(key, JSON.stringify(SESSION), 60_000);
    expect(await s.current(b.ctx)).toBeNull();
    expect(await store.get(key)).toBeNull();
  });

  it('ignores a cookie that is no id of its shape, whatever the store holds', async () => {
    const s = sessions();
    for (const id of ['short', `${'a'.repeat(43)}x`, `x${'a'.repeat(43)}`, `${'a'.repeat(42)}.`]) {
      const b = browser();
      b.jar.set('tessera.console', id);
      await store.set(`tessera:console:t1:${digest(id)}`, JSON.stringify(SESSION), 60_000);
      expect(await s.current(b.ctx), id).toBeNull();
    }
  });

  it('gives a new id at every sign-in and forgets the one the browser had (no fixation)', async () => {
    const b = browser();
    const s = sessions();
    b.jar.set('tessera.console', 'a'.repeat(43));
    await store.set(`tessera:console:t1:${digest('a'.repeat(43))}`, JSON.stringify(SESSION), 60_000);
    await s.begin(b.ctx, { ...SESSION, userId: 'u2' });
    expect(b.jar.get('tessera.console')).not.toBe('a'.repeat(43));
    expect(await store.get(`tessera:console:t1:${digest('a'.repeat(43))}`)).toBeNull();
  });

  it('a sign-out is not undone by a request that read the session just before it', async () => {
    const b = browser();
    const s = sessions();
    await s.begin(b.ctx, SESSION);
    // the request reads, then the sign-out takes the key, then the request renews: nothing comes back
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      const value = await get(key);
      await store.take(key);
      return value;
    };
    expect(await s.current(b.ctx)).toBeNull();
    store.get = get;
    expect(await s.current(b.ctx)).toBeNull();
  });

  it('binds the CSRF token to the session: another session’s token or a forged one is refused', async () => {
    const a = browser();
    const b = browser();
    const s = sessions();
    await s.begin(a.ctx, SESSION);
    await s.begin(b.ctx, SESSION);
    const ca = (await s.current(a.ctx))!;
    const cb = (await s.current(b.ctx))!;
    expect(s.verifyCsrf(ca.id, ca.csrf)).toBe(true);
    expect(s.verifyCsrf(ca.id, cb.csrf)).toBe(false);
    expect(s.verifyCsrf(ca.id, null)).toBe(false);
    expect(s.verifyCsrf(ca.id, `${ca.csrf.slice(0, -1)}A`)).toBe(ca.csrf.endsWith('A'));
    expect(await s.end(a.ctx)).toEqual(SESSION);
    expect(await s.current(a.ctx)).toBeNull();
    expect(await s.end(a.ctx)).toBeNull();
  });

  it('a single-use form token: good once (exactly one of 40 parallel uses), for its own session only, never forged', async () => {
    const s = sessions();
    const token = s.onceToken('session-a');
    expect(token).toMatch(/^[\w-]{24}\.[\w-]{43}$/);
    const uses = await Promise.all(Array.from({ length: 40 }, () => s.useOnce('session-a', token)));
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect(await s.useOnce('session-a', token)).toBe(false);
    const other = s.onceToken('session-a');
    expect(await s.useOnce('session-b', other)).toBe(false);
    const [nonce] = other.split('.');
    for (const forged of [null, '', nonce!, `${nonce}.`, `${nonce}.${'A'.repeat(43)}`, `${other}.x`, `x${other}`])
      expect(await s.useOnce('session-a', forged), String(forged)).toBe(false);
    expect(await s.useOnce('session-a', other)).toBe(true);
    // remembered as long as a session can live
    at(8 * 3600_000 - 1);
    expect(await s.useOnce('session-a', other)).toBe(false);
  });
});
