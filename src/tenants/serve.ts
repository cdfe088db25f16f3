/**
 * A tenant as the server serves it: its context (tenants/context.ts) plus its oidc-provider and
 * the request handler the server hands `/t/<slug>/*` to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { createProvider } from '../oidc/provider.ts';
import type { OidcShared } from '../oidc/tenant.ts';
import type { TenantContext } from './context.ts';

export interface ServedTenant extends TenantContext {
  readonly provider: Provider;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface ServingDeps extends OidcShared {
  /** the request middleware (ids, logs, metrics) that runs first in the tenant's provider */
  observe: (slug: string, provider: Provider) => Middleware;
}

export function serveTenant(tenant: TenantContext, deps: ServingDeps): ServedTenant {
  const provider = createProvider(tenant, deps);
  // first of all of the provider's middleware, so it also sees what the others answer or throw
  provider.middleware.unshift(deps.observe(tenant.slug, provider));
  // anything that still escapes is answered by that middleware; Koa must not print it
  provider.silent = true;
  const handle = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  return { ...tenant, provider, handle };
}
