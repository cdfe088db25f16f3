/**
 * Per-request observations that code deep inside a request (the audit repository, the password
 * grant's audit events) can report without knowing about metrics: observability/http.ts runs every
 * request inside `requestScope`, and whatever runs in that async context finds it here. Outside a
 * request (bootstrap, CLI, background jobs) there is no scope and reports are dropped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestScope {
  /** the validated request id (X-Request-Id when well-formed, else generated): never the raw header */
  requestId: string;
  /** the client address worked out once at the edge (server.ts, TRUST_PROXY_HOPS) */
  address?: string | undefined;
  /** the tenant slug once routing knows it */
  tenant?: string;
  /** an audit event of this type was written while serving the request */
  onAudit?: (type: string) => void;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

/** called by the audit repository after it wrote an event */
export function reportAudit(type: string): void {
  requestScope.getStore()?.onAudit?.(type);
}

/** the request id and client address of the request being served, for audit events */
export function currentRequest(): { requestId: string | null; address: string | null } {
  const scope = requestScope.getStore();
  return { requestId: scope?.requestId ?? null, address: scope?.address ?? null };
}
