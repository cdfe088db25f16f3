/**
 * One admin call, whoever makes it: the HTTP router (after authenticating the bearer token) and
 * the operator CLI (as the operator) both come through here, so a call is validated, authorized
 * and audited the same way from either.
 */
import type { z } from 'zod';
import { SLUG_PATTERN, type Actor } from '../contract.ts';
import { AppError, fromDatabaseError } from '../errors.ts';
import type { Services } from '../services/index.ts';
import { authorize } from '../services/policy.ts';
import type { TenantContext } from '../tenants/context.ts';
import { UNSAFE_CHARS } from './body.ts';
import type { AdminRoute } from './route.ts';

export interface DispatchDeps {
  services: Services;
  /** the tenant acted on; null when there is none */
  tenantFor(slug: string): Promise<TenantContext | null>;
}

export interface CallInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** read only after the checks that need no body (an HTTP body is read from the socket) */
  body(): Promise<unknown>;
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const res = schema.safeParse(value ?? (where === 'query' ? {} : undefined));
  if (!res.success) {
    throw new AppError('invalid_request', `the ${where} is invalid`, {
      errors: res.error.issues.map((i) => ({ path: i.path.join('.') || where, message: i.message })),
    });
  }
  return res.data;
}

export function createDispatcher(deps: DispatchDeps) {
  return async function call(route: AdminRoute, actor: Actor, input: CallInput): Promise<unknown> {
    const { params } = input;
    // the policy's first decision: may this actor perform this operation in this tenant at all?
    // (before the tenant is looked up: no existence oracle)
    authorize(actor, { operation: route.operation, ...(params.t !== undefined ? { tenant: { slug: params.t } } : {}) });
    // identifiers that cannot name anything are not looked up (and never reach SQL)
    if (params.t !== undefined && !SLUG_PATTERN.test(params.t)) throw new AppError('not_found', 'tenant not found');
    if (Object.values(params).some((v) => v.length > 200 || UNSAFE_CHARS.test(v))) throw new AppError('not_found', 'not found');
    if (
      Object.values(input.query)
        .flat()
        .some((v) => typeof v === 'string' && UNSAFE_CHARS.test(v))
    ) {
      throw new AppError('invalid_request', 'query parameters must not contain control characters');
    }
    const query = route.query ? parse(route.query, input.query, 'query') : undefined;
    const raw = route.method === 'post' || route.method === 'patch' ? await input.body() : undefined;
    const body = route.body ? parse(route.body, raw, 'body') : undefined;
    // the tenant acted on, from the pool: built once, not per call
    const tenant = params.t !== undefined ? await deps.tenantFor(params.t) : undefined;
    if (tenant === null) throw new AppError('not_found', `tenant "${params.t}" not found`);
    try {
      return await route.handler({ actor, tenant, services: deps.services }, { params, query, body });
    } catch (err) {
      // a database error that is the caller's doing (a duplicate, input refused, e.g. a forged
      // cursor) is a refusal for every caller, not only for the HTTP router's error writer
      throw fromDatabaseError(err) ?? err;
    }
  };
}
export type Dispatch = ReturnType<typeof createDispatcher>;
