/** A route of the admin API: what the router runs and what the OpenAPI document describes. */
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Actor, Operation } from '../services/policy.ts';
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
  /** what the policy (services/policy.ts) decides on: who may call it, on which targets */
  operation: Operation;
  query?: z.ZodType;
  body?: z.ZodType;
  status: number;
  response?: z.ZodType;
  handler(ctx: RouteContext, input: RouteInput): Promise<unknown>;
}

export const defineRoutes = (routes: AdminRoute[]) => routes;
