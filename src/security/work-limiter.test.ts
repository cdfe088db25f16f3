/**
 * The work limiter: at most `concurrency` jobs run, at most `queue` wait (first in, first out), and
 * anything beyond is refused at once with OverloadedError. Jobs are gated by promises the test
 * settles; what runs is observed with counters inside the jobs.
 */
import { type Gate, gate, settle } from '../../test/helpers/gate.ts';
import { describe, expect, it } from 'vitest';
import { OverloadedError, createWorkLimiter } from './work-limiter.ts';

/** jobs that record when they start and finish, and how many ran at once */
function tracker() {
  const started: string[] = [];
  const finished: string[] = [];
  const gates = new Map<string, Gate<string>>();
  let active = 0;
  let maxActive = 0;
  const job = (name: string) => async (): Promise<string> => {
    started.push(name);
    active++;
    maxActive = Math.max(maxActive, active);
    const g = gate<string>();
    gates.set(name, g);
    try {
      return await g.promise;
    } finally {
      active--;
      finished.push(name);
    }
  };
  const gateOf = (name: string): Gate<string> => {
    const g = gates.get(name);
    if (!g) throw new Error(`${name} has not started`);
    return g;
  };
  return {
    started,
    finished,
    job,
    finish: (name: string) => gateOf(name).resolve(`done ${name}`),
    fail: (name: string, message: string) => gateOf(name).reject(new Error(message)),
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
  };
}

describe('OverloadedError', () => {
  it('is an Error named OverloadedError with a fixed message', () => {
    const e = new OverloadedError();
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('OverloadedError');
    expect(e.message).toBe('too much concurrent work');
  });
});

describe('createWorkLimiter', () => {
  it('runs at most `concurrency` jobs at once and starts a waiter when one finishes', async () => {
    const limiter = createWorkLimiter({ concurrency: 2, queue: 5 });
    const t = tracker();
    const runs = ['a', 'b', 'c', 'd'].map((n) => limiter.run(t.job(n)));
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    expect(t.active).toBe(2);

    t.finish('a');
    expect(await runs[0]).toBe('done a');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c']);
    expect(t.active).toBe(2);

    t.finish('b');
    t.finish('c');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
    t.finish('d');
    expect(await Promise.all(runs)).toEqual(['done a', 'done b', 'done c', 'done d']);
    expect(t.maxActive).toBe(2);
    expect(t.active).toBe(0);
  });

  it('starts the first `concurrency` jobs without waiting for anything', async () => {
    const limiter = createWorkLimiter({ concurrency: 3, queue: 0 });
    const t = tracker();
    for (const n of ['a', 'b', 'c']) void limiter.run(t.job(n));
    // the jobs start synchronously within run(), before any promise reaction
    expect(t.started).toEqual(['a', 'b', 'c']);
    for (const n of ['a', 'b', 'c']) t.finish(n);
    await settle();
  });

  it('lets at most `queue` wait and refuses the next at once, without running it', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 2 });
    const t = tracker();
    const a = limiter.run(t.job('a'));
    const b = limiter.run(t.job('b'));
    const c = limiter.run(t.job('c'));
    let refusedRan = false;
    const refused = limiter.run(async () => {
      refusedRan = true;
      return 'never';
    });
    // refused before anything running or waiting has moved
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toThrow('too much concurrent work');
    expect(refusedRan).toBe(false);
    expect(t.started).toEqual(['a']);

    t.finish('a');
    expect(await a).toBe('done a');
    await settle();
    // b took a's slot, so one place in the queue is free again (c waits in the other)
    expect(t.started).toEqual(['a', 'b']);
    const e = limiter.run(t.job('e'));
    await expect(limiter.run(t.job('x'))).rejects.toBeInstanceOf(OverloadedError);

    for (const n of ['b', 'c', 'e']) {
      await settle();
      t.finish(n);
    }
    expect(await Promise.all([b, c, e])).toEqual(['done b', 'done c', 'done e']);
    expect(t.started).toEqual(['a', 'b', 'c', 'e']);
    expect(t.maxActive).toBe(1);
  });

  it('with no queue refuses everything beyond `concurrency`', async () => {
    const limiter = createWorkLimiter({ concurrency: 2, queue: 0 });
    const t = tracker();
    const a = limiter.run(t.job('a'));
    const b = limiter.run(t.job('b'));
    await expect(limiter.run(t.job('c'))).rejects.toBeInstanceOf(OverloadedError);
    expect(t.started).toEqual(['a', 'b']);
    t.finish('a');
    await a;
    // a's slot is free again
    const d = limiter.run(t.job('d'));
    expect(t.started).toEqual(['a', 'b', 'd']);
    t.finish('b');
    t.finish('d');
    expect(await Promise.all([b, d])).toEqual(['done b', 'done d']);
  });

  it("hands a finished job's slot to the first waiter: a newcomer neither jumps ahead nor runs beside it", async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 1 });
    const t = tracker();
    const a = limiter.run(t.job('a'));
    const b = limiter.run(t.job('b'));
    t.finish('a');
    await a;
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    // b holds the only slot; the queue is empty again: c waits, d is refused
    const c = limiter.run(t.job('c'));
    await expect(limiter.run(t.job('d'))).rejects.toBeInstanceOf(OverloadedError);
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    t.finish('b');
    await b;
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.finish('c');
    expect(await c).toBe('done c');
    expect(t.maxActive).toBe(1);
  });

  it('starts waiters in the order they arrived', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 4 });
    const t = tracker();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const runs = names.map((n) => limiter.run(t.job(n)));
    for (let i = 0; i < names.length; i++) {
      await settle();
      expect(t.started).toEqual(names.slice(0, i + 1));
      t.finish(names[i]!);
    }
    expect(await Promise.all(runs)).toEqual(names.map((n) => `done ${n}`));
    expect(t.finished).toEqual(names);
    expect(t.maxActive).toBe(1);
  });

  it('releases the slot of a job that throws, and passes the error on', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 0 });
    await expect(
      limiter.run(async () => {
        throw new Error('argon2 failed');
      }),
    ).rejects.toThrow('argon2 failed');
    // the slot is free: the next job runs instead of being refused
    expect(await limiter.run(async () => 'ok')).toBe('ok');
    expect(await limiter.run(async () => 'again')).toBe('again');
  });

  it('releases the slot of a job that throws synchronously', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 0 });
    const throwing = (): Promise<string> => {
      throw new Error('sync failure');
    };
    await expect(limiter.run(throwing)).rejects.toThrow('sync failure');
    expect(await limiter.run(async () => 'ok')).toBe('ok');
  });

  it('hands the slot of a failed job to the next waiter, and of a failed waiter to the one after', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 2 });
    const t = tracker();
    const a = limiter.run(t.job('a'));
    const b = limiter.run(t.job('b'));
    const c = limiter.run(t.job('c'));
    t.fail('a', 'a broke');
    await expect(a).rejects.toThrow('a broke');
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    t.fail('b', 'b broke');
    await expect(b).rejects.toThrow('b broke');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.finish('c');
    expect(await c).toBe('done c');
    expect(t.maxActive).toBe(1);
    // everything released: with concurrency 1 and a queue of 2, three are accepted again
    const again = ['x', 'y', 'z'].map((n) => limiter.run(t.job(n)));
    await expect(limiter.run(t.job('w'))).rejects.toBeInstanceOf(OverloadedError);
    for (const n of ['x', 'y', 'z']) {
      await settle();
      t.finish(n);
    }
    expect(await Promise.all(again)).toEqual(['done x', 'done y', 'done z']);
  });
});
