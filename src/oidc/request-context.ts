/**
 * Per-request state shared between a grant and the adapters beneath it (AsyncLocalStorage). Used
 * to make refresh-token rotation one transaction: `consume(old)` only records the old token here,
 * and the `upsert(successor)` that follows consumes it and stores the successor atomically.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestState {
  /** digest of a refresh token whose consumption waits for its successor's upsert */
  pendingConsume?: { model: string; id: string };
}

export const requestContext = new AsyncLocalStorage<RequestState>();
