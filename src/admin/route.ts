/** A route of the admin API: what the router runs and what the OpenAPI document describes. */
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Actor } from '../services/deps.ts';
import type { Principal } from './auth.ts';

export interface RouteInput {
  params: Record<string, string>;
  query: unknown;
  body: unknown;
}

export interface RouteContext {
  koa: Context;
  principal: Principal;
  actor: Actor;
}

export interface AdminRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI style, relative to /admin: `/tenants/{t}/users/{id}` */
  path: string;
  summary: string;
  /** `platform`: platform admins only; `tenant`: admins of the `{t}` in the path */
  access: 'platform' | 'tenant' | 'any';
  query?: z.ZodType;
  body?: z.ZodType;
  status: number;
  response?: z.ZodType;
  handler(ctx: RouteContext, input: RouteInput): Promise<unknown>;
}

export const defineRoutes = (routes: AdminRoute[]) => routes;
