/**
 * Prometheus metrics (prom-client), one registry per Tessera instance so several instances in one
 * process (tests) keep separate counts. Label values are bounded: tenants are only those the pool
 * resolved, grant types and outcomes come from fixed lists or from oidc-provider's error classes,
 * never from raw request input.
 *
 * Token-endpoint outcomes come from oidc-provider's own events ('grant.success', 'grant.error',
 * 'server_error'), attached to each tenant's provider when it is built (src/observability/http.ts);
 * that request middleware then records one observation per request.
 */
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../tenants/pool.ts';
import { StoreUnavailableError } from '../store/types.ts';
import { isBadInputError } from '../errors.ts';
import { isGrantType } from '../contract.ts';

const OUTCOME = /^[a-z_]{1,40}$/;

export type Dependency = 'database' | 'redis';

interface TokenOutcome {
  grantType: string;
  outcome: string;
}

/** which dependency an unexpected error came from, if it tells */
export function dependencyOf(err: unknown): Dependency | undefined {
  // the database refused the input (a NUL byte, a malformed id): not a failure of the database
  if (isBadInputError(err)) return undefined;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StoreUnavailableError) return 'redis';
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && (name.startsWith('PrismaClient') || name === 'DriverAdapterError' || name === 'DatabaseError')) {
      return 'database';
    }
    const code = (e as { code?: unknown }).code;
    // PostgreSQL SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention)
    if (typeof code === 'string' && /^(08|53|57)[0-9A-Z]{3}$/.test(code)) return 'database';
  }
  return undefined;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const tokenRequests = new Counter({
    name: 'tessera_token_requests_total',
    help: 'Token endpoint requests by tenant, grant type and outcome ("issued" or the OAuth error code)',
    labelNames: ['tenant', 'grant_type', 'outcome'] as const,
    registers,
  });
  const tokenDuration = new Histogram({
    name: 'tessera_token_request_duration_seconds',
    help: 'Token endpoint latency by tenant and grant type',
    labelNames: ['tenant', 'grant_type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const signinFailures = new Counter({
    name: 'tessera_signin_failures_total',
    help: 'Failed password sign-ins (unknown user, wrong password, disabled user) by tenant',
    labelNames: ['tenant'] as const,
    registers,
  });
  const signinLockouts = new Counter({
    name: 'tessera_signin_lockouts_total',
    help: 'Brute-force locks started (per address or per account) by tenant',
    labelNames: ['tenant'] as const,
    registers,
  });
  const auditEvents = new Counter({
    name: 'tessera_audit_events_total',
    help: 'Audit events written while serving requests, by type',
    labelNames: ['type'] as const,
    registers,
  });
  const introspections = new Counter({
    name: 'tessera_introspection_requests_total',
    help: 'Introspection endpoint requests by tenant and HTTP status',
    labelNames: ['tenant', 'status'] as const,
    registers,
  });
  const revocations = new Counter({
    name: 'tessera_revocation_requests_total',
    help: 'Revocation endpoint requests by tenant and HTTP status',
    labelNames: ['tenant', 'status'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'tessera_rate_limited_total',
    help: 'Requests answered 429 (rate limit or brute-force lock) by tenant and route',
    labelNames: ['tenant', 'route'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests by area (oidc, admin, ops, other) and status',
    labelNames: ['area', 'status'] as const,
    registers,
  });
  const dependencyErrors = new Counter({
    name: 'tessera_dependency_errors_total',
    help: 'Errors talking to the database or Redis (failed requests, readiness checks, background jobs)',
    labelNames: ['dependency'] as const,
    registers,
  });
  for (const dependency of ['database', 'redis'] as const) dependencyErrors.inc({ dependency }, 0);

  const tokenOutcomes = new WeakMap<IncomingMessage, TokenOutcome>();
  let poolStats: (() => PoolStats) | undefined;

  new Gauge({
    name: 'tessera_tenant_pool_size',
    help: 'Tenants whose provider is in memory',
    registers,
    collect() {
      if (poolStats) this.set(poolStats().size);
    },
  });
  for (const [name, key, help] of [
    ['tessera_tenant_pool_hits_total', 'hits', 'Tenant lookups served from memory'],
    ['tessera_tenant_pool_misses_total', 'misses', 'Tenant lookups that went to the database'],
    ['tessera_tenant_pool_evictions_total', 'evictions', 'Tenants dropped from memory to stay within TENANT_CACHE_SIZE'],
  ] as const) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        if (!poolStats) return;
        this.reset();
        this.inc(poolStats()[key]);
      },
    });
  }

  const grantTypeOf = (ctx: KoaContextWithOIDC): string => {
    const g = (ctx.oidc?.params as Record<string, unknown> | undefined)?.grant_type;
    return typeof g === 'string' ? (isGrantType(g) ? g : 'other') : 'unknown';
  };

  const observeError = (err: unknown): void => {
    const dependency = dependencyOf(err);
    if (dependency) dependencyErrors.inc({ dependency });
  };

  return {
    registry,
    observeError,
    /** counts an error of a known dependency (a failed readiness check, a background job) */
    dependencyError: (dependency: Dependency) => dependencyErrors.inc({ dependency }),
    observePool(stats: () => PoolStats): void {
      poolStats = stats;
    },
    /** attaches the token-endpoint listeners to a tenant's provider; called once, when it is built */
    observeProvider(provider: Provider): void {
      provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
        tokenOutcomes.set(ctx.req, { grantType: grantTypeOf(ctx), outcome: 'issued' });
      });
      provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: unknown }) => {
        const code = typeof err.error === 'string' && OUTCOME.test(err.error) ? err.error : 'other';
        tokenOutcomes.set(ctx.req, { grantType: grantTypeOf(ctx), outcome: code });
      });
      provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
        observeError(err);
        if (ctx.req) tokenOutcomes.set(ctx.req, { grantType: grantTypeOf(ctx), outcome: 'server_error' });
      });
    },
    /** one finished request to a tenant's endpoints (`route` relative to /t/<tenant>) */
    tenantRequest(req: IncomingMessage, tenant: string, route: string, status: number, seconds: number): void {
      if (route === '/token') {
        const o = tokenOutcomes.get(req) ?? { grantType: 'unknown', outcome: status < 400 ? 'issued' : 'other' };
        tokenRequests.inc({ tenant, grant_type: o.grantType, outcome: o.outcome });
        tokenDuration.observe({ tenant, grant_type: o.grantType }, seconds);
      } else if (route === '/token/introspection') {
        introspections.inc({ tenant, status: String(status) });
      } else if (route === '/token/revocation') {
        revocations.inc({ tenant, status: String(status) });
      }
    },
    request(area: 'oidc' | 'admin' | 'ops' | 'other', status: number, tenant: string | undefined, route: string): void {
      httpRequests.inc({ area, status: String(status) });
      if (status === 429) rateLimited.inc({ tenant: tenant ?? '', route });
    },
    audit(tenant: string | undefined, type: string): void {
      auditEvents.inc({ type });
      if (type === 'signin.failure') signinFailures.inc({ tenant: tenant ?? '' });
      if (type === 'signin.lockout') signinLockouts.inc({ tenant: tenant ?? '' });
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
