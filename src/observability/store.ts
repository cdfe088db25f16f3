/**
 * Counts failed store (Redis) calls without touching the store: a Proxy that forwards every
 * method and reports rejections that are StoreUnavailableError. Callers still see the same
 * errors; only the count is added. Works for any method the Store interface gains later.
 */
import { StoreUnavailableError } from '../store/types.ts';

export function observeStore<S extends object>(store: S, onUnavailable: () => void): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.catch((err: unknown) => {
            if (err instanceof StoreUnavailableError) onUnavailable();
            throw err;
          });
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
