/**
 * Bounds expensive work (argon2): at most `concurrency` jobs run, at most `queue` wait; anything
 * beyond is refused at once (the caller answers 503 + Retry-After) instead of growing latency
 * without bound. Keeping argon2 below the libuv thread-pool size also leaves threads for the
 * token signing (node:crypto, thread pool) that every other token needs, so a password flood cannot starve
 * client_credentials, discovery or JWKS.
 */
export class OverloadedError extends Error {
  constructor() {
    super('too much concurrent work');
    this.name = 'OverloadedError';
  }
}

export function createWorkLimiter(opts: { concurrency: number; queue: number }) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (running < opts.concurrency) {
        running++;
      } else if (waiting.length < opts.queue) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        throw new OverloadedError();
      }
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
export type WorkLimiter = ReturnType<typeof createWorkLimiter>;
