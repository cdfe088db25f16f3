/**
 * A route of the admin API: what the router runs and what the OpenAPI document describes. `route`
 * infers the handler's query and body types from their zod schemas (as Logto's koaGuard does), so
 * a handler never casts what the router validated.
 */
import type { z } from 'zod';
import type { Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services/index.ts';
import type { Operation } from '../services/policy.ts';
import type { TenantContext } from '../tenants/context.ts';

/** what a handler gets, whoever called (the HTTP router or the operator CLI: dispatch.ts) */
export interface RouteContext {
  actor: Actor;
  /** the `{t}` of the path, from the tenant pool (only on tenant routes) */
  tenant: TenantContext | undefined;
  /** the platform's services */
  services: Services;
}

/** how the CLI spells the call where its derived options are not enough (cli/admin-commands.ts) */
export interface CliHints {
  /** body fields taken as positional arguments after the path's parameters */
  args?: string[];
  /** other names of options: for another option, or standing for a fixed value of it */
  aliases?: Record<string, { flag: string; value?: string }>;
}

export interface RouteInput<Q = unknown, B = unknown> {
  params: Record<string, string>;
  query: Q;
  body: B;
}

interface RouteShape {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI style, relative to /admin: `/tenants/{t}/users/{id}` */
  path: string;
  summary: string;
  /** what the policy (services/policy.ts) decides on: who may call it, on which targets */
  operation: Operation;
  status: number;
  response?: z.ZodType;
  cli?: CliHints;
}

export interface AdminRoute extends RouteShape {
  query?: z.ZodType;
  body?: z.ZodType;
  handler(ctx: RouteContext, input: RouteInput): Promise<unknown>;
}

type Inferred<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** one route, its handler typed by its schemas */
export function route<Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  def: RouteShape & { query?: Q; body?: B; handler(ctx: RouteContext, input: RouteInput<Inferred<Q>, Inferred<B>>): Promise<unknown> },
): AdminRoute {
  return def as AdminRoute;
}

/** the tenant of a tenant route (the router resolved it before the handler runs) */
export function tenantOf(c: RouteContext): TenantContext {
  if (!c.tenant) throw new AppError('not_found', 'tenant not found');
  return c.tenant;
}
