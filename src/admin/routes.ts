/**
 * Every call of CONTRACT §5, as data: method, path, access, schemas and a handler that calls a
 * service — the platform's, or the tenant's from its context (`tenantOf`: built once by the pool).
 */
import type { Services } from '../services/index.ts';
import type { Tenant } from '../services/tenants.ts';
import { auditRoutes } from './audit-routes.ts';
import { route, tenantOf, type AdminRoute, type RouteContext } from './route.ts';
import * as S from './schemas.ts';

const tenantView = (t: Tenant) => ({ slug: t.slug, name: t.name, issuer: t.issuer, signingAlg: t.signingAlg, createdAt: t.createdAt.toISOString() });

export function adminRoutes(services: Services): AdminRoute[] {
  /** the target tenant's services (authorization was checked before, by the router) */
  const scoped = (c: RouteContext) => tenantOf(c).services;
  const t = (p: Record<string, string>) => p.t!;

  return [
    // tenants
    route({
      method: 'post',
      path: '/tenants',
      summary: 'Create a tenant (and its first tenant admin)',
      operation: 'tenant.create',
      body: S.CreateTenant,
      status: 201,
      response: S.Tenant,
      handler: async (c, { body }) => tenantView(await services.tenants.create(body, c.actor)),
    }),
    route({
      method: 'get',
      path: '/tenants',
      summary: 'List tenants',
      operation: 'tenant.list',
      query: S.PageQuery,
      status: 200,
      response: S.pageOf(S.Tenant),
      handler: async (_c, { query }) => {
        const p = await services.tenants.list(query);
        return { ...p, items: p.items.map(tenantView) };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{t}',
      summary: 'Get a tenant',
      operation: 'tenant.read',
      status: 200,
      response: S.Tenant,
      handler: async (_c, { params }) => tenantView(await services.tenants.get(t(params))),
    }),
    // resources
    route({
      method: 'post',
      path: '/tenants/{t}/resources',
      summary: 'Create a resource (API)',
      operation: 'resource.create',
      body: S.CreateResource,
      status: 201,
      response: S.Resource,
      handler: async (c, { body }) => scoped(c).resources.create(body, c.actor),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/resources',
      summary: 'List resources',
      operation: 'resource.list',
      query: S.PageQuery,
      status: 200,
      response: S.pageOf(S.Resource),
      handler: async (c, { query }) => scoped(c).resources.list(query),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/resources/{id}',
      summary: 'Get a resource',
      operation: 'resource.read',
      status: 200,
      response: S.Resource,
      handler: async (c, { params }) => scoped(c).resources.get(params.id!),
    }),
    route({
      method: 'patch',
      path: '/tenants/{t}/resources/{id}',
      summary: 'Change a resource',
      operation: 'resource.update',
      body: S.UpdateResource,
      status: 200,
      response: S.Resource,
      handler: async (c, { params, body }) => scoped(c).resources.update(params.id!, body, c.actor),
    }),
    route({
      method: 'delete',
      path: '/tenants/{t}/resources/{id}',
      summary: 'Delete a resource',
      operation: 'resource.delete',
      status: 204,
      handler: async (c, { params }) => scoped(c).resources.delete(params.id!, c.actor),
    }),
    // roles
    route({
      method: 'post',
      path: '/tenants/{t}/roles',
      summary: 'Create a role',
      operation: 'role.create',
      body: S.CreateRole,
      status: 201,
      response: S.Role,
      handler: async (c, { body }) => scoped(c).roles.create(body, c.actor),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/roles',
      summary: 'List roles',
      operation: 'role.list',
      query: S.PageQuery,
      status: 200,
      response: S.pageOf(S.Role),
      handler: async (c, { query }) => scoped(c).roles.list(query),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/roles/{name}',
      summary: 'Get a role',
      operation: 'role.read',
      status: 200,
      response: S.Role,
      handler: async (c, { params }) => scoped(c).roles.get(params.name!),
    }),
    route({
      method: 'patch',
      path: '/tenants/{t}/roles/{name}',
      summary: 'Change a role',
      operation: 'role.update',
      body: S.UpdateRole,
      status: 200,
      response: S.Role,
      handler: async (c, { params, body }) => scoped(c).roles.update(params.name!, body, c.actor),
    }),
    route({
      method: 'delete',
      path: '/tenants/{t}/roles/{name}',
      summary: 'Delete a role',
      operation: 'role.delete',
      status: 204,
      handler: async (c, { params }) => scoped(c).roles.delete(params.name!, c.actor),
    }),
    // users
    route({
      method: 'post',
      path: '/tenants/{t}/users',
      summary: 'Create a user',
      operation: 'user.create',
      body: S.CreateUser,
      status: 201,
      response: S.User,
      handler: async (c, { body }) => scoped(c).users.create(body, c.actor),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/users',
      summary: 'List users',
      operation: 'user.list',
      query: S.PageQuery,
      status: 200,
      response: S.pageOf(S.User),
      handler: async (c, { query }) => scoped(c).users.list(query),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/users/{id}',
      summary: 'Get a user',
      operation: 'user.read',
      status: 200,
      response: S.User,
      handler: async (c, { params }) => scoped(c).users.get(params.id!),
    }),
    route({
      method: 'patch',
      path: '/tenants/{t}/users/{id}',
      summary: 'Change roles, disable, or set a password',
      operation: 'user.update',
      body: S.UpdateUser,
      status: 200,
      response: S.User,
      handler: async (c, { params, body }) => scoped(c).users.update(params.id!, body, c.actor),
    }),
    route({
      method: 'delete',
      path: '/tenants/{t}/users/{id}',
      summary: 'Delete a user',
      operation: 'user.delete',
      status: 204,
      handler: async (c, { params }) => scoped(c).users.delete(params.id!, c.actor),
    }),
    // clients
    route({
      method: 'post',
      path: '/tenants/{t}/clients',
      summary: 'Register a client (the secret is returned only now)',
      operation: 'client.create',
      body: S.CreateClient,
      status: 201,
      response: S.CreatedClient,
      handler: async (c, { body }) => scoped(c).clients.create(body, c.actor),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/clients',
      summary: 'List clients',
      operation: 'client.list',
      query: S.PageQuery,
      status: 200,
      response: S.pageOf(S.Client),
      handler: async (c, { query }) => scoped(c).clients.list(query),
    }),
    route({
      method: 'get',
      path: '/tenants/{t}/clients/{clientId}',
      summary: 'Get a client',
      operation: 'client.read',
      status: 200,
      response: S.Client,
      handler: async (c, { params }) => scoped(c).clients.get(params.clientId!),
    }),
    route({
      method: 'patch',
      path: '/tenants/{t}/clients/{clientId}',
      summary: 'Change a client',
      operation: 'client.update',
      body: S.UpdateClient,
      status: 200,
      response: S.Client,
      handler: async (c, { params, body }) => scoped(c).clients.update(params.clientId!, body, c.actor),
    }),
    route({
      method: 'delete',
      path: '/tenants/{t}/clients/{clientId}',
      summary: 'Delete a client',
      operation: 'client.delete',
      status: 204,
      handler: async (c, { params }) => scoped(c).clients.delete(params.clientId!, c.actor),
    }),
    route({
      method: 'post',
      path: '/tenants/{t}/clients/{clientId}/secret',
      summary: 'Rotate a client secret (the old one works for the grace period)',
      operation: 'client.rotate_secret',
      status: 200,
      response: S.RotatedSecret,
      handler: async (c, { params }) => scoped(c).clients.rotateSecret(params.clientId!, c.actor),
    }),
    // keys
    route({
      method: 'get',
      path: '/tenants/{t}/keys',
      summary: 'List published signing keys',
      operation: 'keys.list',
      status: 200,
      response: S.pageOf(S.Key),
      handler: async (c) => ({ items: await scoped(c).keys.list(), nextCursor: null }),
    }),
    route({
      method: 'post',
      path: '/tenants/{t}/keys/rotate',
      summary: 'Rotate the signing key',
      operation: 'keys.rotate',
      status: 200,
      response: S.RotatedKey,
      handler: async (c) => scoped(c).keys.rotate(c.actor),
    }),
    // audit trail
    ...auditRoutes(),
  ];
}
