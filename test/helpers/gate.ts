/** Promises a test resolves by hand, and a turn of the event loop to let reactions run (no timed waits). */
import { setImmediate as macrotask } from 'node:timers/promises';

/** lets every pending promise reaction run (a macrotask turn, not a timed wait) */
export const settle = () => macrotask();

export interface Gate<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: Error) => void;
}

export function gate<T>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
