/**
 * Counts failed store (Redis) calls without touching the store: a Proxy that forwards every
 * method and reports rejections that are StoreUnavailableError. Callers still see the same
 * errors; only the count is added. Works for any method the Store interface gains later.
 */
import { StoreUnavailableError } from '../store/types.ts';

export function observeStore<S extends object>(store: S, onUnavailable: () => void): S {
  /** per method, the wrapper of the function it was made for (a method replaced later gets a new one) */
  const wrapped = new Map<PropertyKey, { of: unknown; fn: unknown }>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop)?.of === value ? wrapped.get(prop)!.fn : undefined;
      if (!fn) {
        fn = (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.catch((err: unknown) => {
            if (err instanceof StoreUnavailableError) onUnavailable();
            throw err;
          });
        };
        wrapped.set(prop, { of: value, fn });
      }
      return fn;
    },
  });
}
