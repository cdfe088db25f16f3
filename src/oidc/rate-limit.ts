/**
 * Token-endpoint rate limits (issue 5): per client (its `rateLimitPerHour`, e.g. plans of 100 /
 * 1,000 / 10,000 requests an hour) and per tenant (TENANT_RATE_LIMIT_PER_HOUR), counted in fixed
 * hourly windows in the store, so every instance shares them. Beyond a limit: 429 with
 * Retry-After (the end of the window). If the store is unreachable the limit is not enforced:
 * machine tokens keep flowing (sign-ins, which need brute-force counters, answer 503 instead).
 */
import type { Provider } from 'oidc-provider';
import type { Store } from '../store/index.ts';
import type { ClientDirectory } from './adapters/clients.ts';
import { TooManyRequests } from './errors.ts';
import { grantTypeHandlers } from './internals.ts';

const HOUR_MS = 3600_000;

export function applyRateLimits(
  provider: Provider,
  deps: { store: Store; clients: ClientDirectory; tenantId: string; tenantLimitPerHour: number | undefined },
) {
  const { store, clients, tenantId } = deps;

  async function check(clientId: string | undefined, clientLimit: number | undefined): Promise<void> {
    const window = Math.floor(Date.now() / HOUR_MS);
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * HOUR_MS - Date.now()) / 1000));
    try {
      if (clientLimit !== undefined && clientId) {
        const n = await store.increment(`rl:c:${tenantId}:${clientId}:${window}`, HOUR_MS);
        if (n > clientLimit) throw new TooManyRequests(retryAfter, `rate limit of ${clientLimit} token requests per hour exceeded for this client`);
      }
      if (deps.tenantLimitPerHour !== undefined) {
        const n = await store.increment(`rl:t:${tenantId}:${window}`, HOUR_MS);
        if (n > deps.tenantLimitPerHour) throw new TooManyRequests(retryAfter, 'rate limit of this tenant exceeded');
      }
    } catch (err) {
      if (err instanceof TooManyRequests) throw err;
      // store unreachable: do not block token issuance on a counter
    }
  }

  const handlers = grantTypeHandlers(provider);
  for (const [grant, handler] of handlers) {
    handlers.set(grant, async (ctx) => {
      const clientId = ctx.oidc.client?.clientId;
      // the client row is cached by the time the client authenticated; peek first, no extra promise
      const row = clientId ? (clients.peek(clientId) ?? (await clients.get(clientId))) : undefined;
      const clientLimit = row?.rateLimitPerHour ?? undefined;
      if (clientLimit !== undefined || deps.tenantLimitPerHour !== undefined) await check(clientId, clientLimit);
      return handler(ctx);
    });
  }
}
