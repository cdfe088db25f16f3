/** The OpenAPI 3.1 document of the admin API, generated from the route table and its zod schemas. */
import { z } from 'zod';
import type { AdminRoute } from './route.ts';
import { Problem } from './schemas.ts';
import { OPERATIONS } from '../services/policy.ts';

const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

export function buildOpenApi(routes: AdminRoute[], publicUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query
      ? Object.entries((json(r.query, 'input') as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({
          name,
          in: 'query',
          required: false,
          schema,
        }))
      : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      description:
        OPERATIONS[r.operation].scope === 'platform'
          ? 'Platform admins only.'
          : 'Platform admins, or tenant admins of `{t}` (see the authorization rules in README).',
      parameters: [...params, ...query],
      responses: {
        [String(r.status)]: r.response
          ? { description: 'OK', content: { 'application/json': { schema: json(r.response, 'output') } } }
          : { description: 'Done' },
        '400': problem('Malformed or invalid input'),
        '401': problem('No or invalid access token'),
        '403': problem('The token may not do this'),
        '404': problem('Not found'),
        '409': problem('Conflicts with existing state'),
        '413': problem('Request body too large'),
      },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: json(r.body, 'input') } } };
    paths[r.path] = { ...paths[r.path], [r.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera admin API',
      version: '1',
      description:
        'Administration of tenants, resources, roles, users, clients and keys. Every call needs `Authorization: Bearer <access token>` with audience `' +
        `${publicUrl}/admin` +
        '`: a platform-admin token from tenant `system` acts on every tenant, a tenant-admin token from tenant T on T only. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: `${publicUrl}/admin` }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: json(Problem, 'output') },
    },
  };
}
