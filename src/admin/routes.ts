/** Every call of CONTRACT §5, as data: method, path, access, schemas and a handler that calls a service. */
import type { Services } from '../services/index.ts';
import type { Tenant } from '../services/tenants.ts';
import { auditRoutes } from './audit-routes.ts';
import { defineRoutes, type AdminRoute, type RouteContext } from './route.ts';
import * as S from './schemas.ts';
import type { z } from 'zod';

type Body<T extends z.ZodType> = z.infer<T>;

const tenantView = (t: Tenant) => ({ slug: t.slug, name: t.name, issuer: t.issuer, signingAlg: t.signingAlg, createdAt: t.createdAt.toISOString() });

export function adminRoutes(services: Services): AdminRoute[] {
  /** the target tenant's services (authorization was checked before, by the router) */
  const scoped = async (slug: string) => services.forTenant((await services.tenants.get(slug)).id);
  const page = (q: unknown) => q as Body<typeof S.PageQuery>;
  const t = (p: Record<string, string>) => p.t!;

  return defineRoutes([
    // tenants
    {
      method: 'post', path: '/tenants', summary: 'Create a tenant (and its first tenant admin)', operation: 'tenant.create',
      body: S.CreateTenant, status: 201, response: S.Tenant,
      handler: async ({ actor }: RouteContext, { body }) => tenantView(await services.tenants.create(body as Body<typeof S.CreateTenant>, actor)),
    },
    {
      method: 'get', path: '/tenants', summary: 'List tenants', operation: 'tenant.list',
      query: S.PageQuery, status: 200, response: S.pageOf(S.Tenant),
      handler: async (_c, { query }) => {
        const p = await services.tenants.list(page(query));
        return { ...p, items: p.items.map(tenantView) };
      },
    },
    {
      method: 'get', path: '/tenants/{t}', summary: 'Get a tenant', operation: 'tenant.read', status: 200, response: S.Tenant,
      handler: async (_c, { params }) => tenantView(await services.tenants.get(t(params))),
    },
    // resources
    {
      method: 'post', path: '/tenants/{t}/resources', summary: 'Create a resource (API)', operation: 'resource.create',
      body: S.CreateResource, status: 201, response: S.Resource,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).resources.create(body as Body<typeof S.CreateResource>, actor),
    },
    {
      method: 'get', path: '/tenants/{t}/resources', summary: 'List resources', operation: 'resource.list',
      query: S.PageQuery, status: 200, response: S.pageOf(S.Resource),
      handler: async (_c, { params, query }) => (await scoped(t(params))).resources.list(page(query)),
    },
    {
      method: 'get', path: '/tenants/{t}/resources/{id}', summary: 'Get a resource', operation: 'resource.read', status: 200, response: S.Resource,
      handler: async (_c, { params }) => (await scoped(t(params))).resources.get(params.id!),
    },
    {
      method: 'patch', path: '/tenants/{t}/resources/{id}', summary: 'Change a resource', operation: 'resource.update',
      body: S.UpdateResource, status: 200, response: S.Resource,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).resources.update(params.id!, body as Body<typeof S.UpdateResource>, actor),
    },
    {
      method: 'delete', path: '/tenants/{t}/resources/{id}', summary: 'Delete a resource', operation: 'resource.delete', status: 204,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).resources.delete(params.id!, actor),
    },
    // roles
    {
      method: 'post', path: '/tenants/{t}/roles', summary: 'Create a role', operation: 'role.create',
      body: S.CreateRole, status: 201, response: S.Role,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).roles.create(body as Body<typeof S.CreateRole>, actor),
    },
    {
      method: 'get', path: '/tenants/{t}/roles', summary: 'List roles', operation: 'role.list',
      query: S.PageQuery, status: 200, response: S.pageOf(S.Role),
      handler: async (_c, { params, query }) => (await scoped(t(params))).roles.list(page(query)),
    },
    {
      method: 'get', path: '/tenants/{t}/roles/{name}', summary: 'Get a role', operation: 'role.read', status: 200, response: S.Role,
      handler: async (_c, { params }) => (await scoped(t(params))).roles.get(params.name!),
    },
    {
      method: 'patch', path: '/tenants/{t}/roles/{name}', summary: 'Change a role', operation: 'role.update',
      body: S.UpdateRole, status: 200, response: S.Role,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).roles.update(params.name!, body as Body<typeof S.UpdateRole>, actor),
    },
    {
      method: 'delete', path: '/tenants/{t}/roles/{name}', summary: 'Delete a role', operation: 'role.delete', status: 204,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).roles.delete(params.name!, actor),
    },
    // users
    {
      method: 'post', path: '/tenants/{t}/users', summary: 'Create a user', operation: 'user.create',
      body: S.CreateUser, status: 201, response: S.User,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).users.create(body as Body<typeof S.CreateUser>, actor),
    },
    {
      method: 'get', path: '/tenants/{t}/users', summary: 'List users', operation: 'user.list',
      query: S.PageQuery, status: 200, response: S.pageOf(S.User),
      handler: async (_c, { params, query }) => (await scoped(t(params))).users.list(page(query)),
    },
    {
      method: 'get', path: '/tenants/{t}/users/{id}', summary: 'Get a user', operation: 'user.read', status: 200, response: S.User,
      handler: async (_c, { params }) => (await scoped(t(params))).users.get(params.id!),
    },
    {
      method: 'patch', path: '/tenants/{t}/users/{id}', summary: 'Change roles, disable, or set a password', operation: 'user.update',
      body: S.UpdateUser, status: 200, response: S.User,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).users.update(params.id!, body as Body<typeof S.UpdateUser>, actor),
    },
    {
      method: 'delete', path: '/tenants/{t}/users/{id}', summary: 'Delete a user', operation: 'user.delete', status: 204,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).users.delete(params.id!, actor),
    },
    // clients
    {
      method: 'post', path: '/tenants/{t}/clients', summary: 'Register a client (the secret is returned only now)', operation: 'client.create',
      body: S.CreateClient, status: 201, response: S.CreatedClient,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).clients.create(body as Body<typeof S.CreateClient>, actor),
    },
    {
      method: 'get', path: '/tenants/{t}/clients', summary: 'List clients', operation: 'client.list',
      query: S.PageQuery, status: 200, response: S.pageOf(S.Client),
      handler: async (_c, { params, query }) => (await scoped(t(params))).clients.list(page(query)),
    },
    {
      method: 'get', path: '/tenants/{t}/clients/{clientId}', summary: 'Get a client', operation: 'client.read', status: 200, response: S.Client,
      handler: async (_c, { params }) => (await scoped(t(params))).clients.get(params.clientId!),
    },
    {
      method: 'patch', path: '/tenants/{t}/clients/{clientId}', summary: 'Change a client', operation: 'client.update',
      body: S.UpdateClient, status: 200, response: S.Client,
      handler: async ({ actor }, { params, body }) => (await scoped(t(params))).clients.update(params.clientId!, body as Body<typeof S.UpdateClient>, actor),
    },
    {
      method: 'delete', path: '/tenants/{t}/clients/{clientId}', summary: 'Delete a client', operation: 'client.delete', status: 204,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).clients.delete(params.clientId!, actor),
    },
    {
      method: 'post', path: '/tenants/{t}/clients/{clientId}/secret', summary: 'Rotate a client secret (the old one works for the grace period)', operation: 'client.rotate_secret',
      status: 200, response: S.RotatedSecret,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).clients.rotateSecret(params.clientId!, actor),
    },
    // keys
    {
      method: 'get', path: '/tenants/{t}/keys', summary: 'List published signing keys', operation: 'keys.list', status: 200, response: S.pageOf(S.Key),
      handler: async (_c, { params }) => ({ items: await (await scoped(t(params))).keys.list(), nextCursor: null }),
    },
    {
      method: 'post', path: '/tenants/{t}/keys/rotate', summary: 'Rotate the signing key', operation: 'keys.rotate', status: 200, response: S.RotatedKey,
      handler: async ({ actor }, { params }) => (await scoped(t(params))).keys.rotate(actor),
    },
    // audit trail
    ...auditRoutes(services),
  ]);
}

