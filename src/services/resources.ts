import { ACCESS_TOKEN_TTL, SYSTEM_ACTOR, type Actor } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { ResourceRow } from '../repositories/resources.ts';
import type { TenantScope } from './deps.ts';
import { paginate, type PageInput } from './page.ts';
import { authorize } from './policy.ts';

export interface CreateResourceInput {
  audience: string;
  name: string;
  scopes: string[];
  accessTokenTtl?: number;
}
export type UpdateResourceInput = Partial<Pick<CreateResourceInput, 'name' | 'scopes' | 'accessTokenTtl'>>;

/** what the admin API shows of a resource: the whole row (nothing in it is secret) */
export type ResourceView = ResourceRow;

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token
const view = (r: ResourceRow): ResourceView => ({ ...r });

function checkScopes(scopes: string[]) {
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) throw new AppError('invalid_request', `invalid scope "${bad}"`);
}
function checkTtl(ttl: number) {
  if (!Number.isInteger(ttl) || ttl < ACCESS_TOKEN_TTL.min || ttl > ACCESS_TOKEN_TTL.max) {
    throw new AppError('invalid_request', `accessTokenTtl must be between ${ACCESS_TOKEN_TTL.min} and ${ACCESS_TOKEN_TTL.max} seconds`);
  }
}

export function createResourceService({ tenant, repos: r, change }: TenantScope) {
  const find = async (id: string) => {
    const row = await r.resources.findById(id);
    if (!row) throw new AppError('not_found', 'resource not found');
    return row;
  };
  return {
    async create(input: CreateResourceInput, actor: Actor = SYSTEM_ACTOR): Promise<ResourceView> {
      authorize(actor, { operation: 'resource.create', tenant });
      const url = URL.parse(input.audience);
      if (!url || url.hash) throw new AppError('invalid_request', 'audience must be an absolute URI without a fragment');
      checkScopes(input.scopes);
      const ttl = input.accessTokenTtl ?? ACCESS_TOKEN_TTL.default;
      checkTtl(ttl);
      const audit = {
        type: 'resource.created',
        target: (created: ResourceRow) => created.id,
        data: { audience: input.audience },
        invalidates: true,
        conflict: `a resource with audience "${input.audience}" already exists`,
      };
      const row = await change(actor, audit, (t) =>
        t.resources.create({
          audience: input.audience,
          name: input.name,
          scopes: [...new Set(input.scopes)],
          accessTokenTtl: ttl,
          builtIn: false,
        }),
      );
      return view(row);
    },
    get: async (id: string): Promise<ResourceView> => view(await find(id)),
    list: (page: PageInput = {}) => paginate(page, (o) => r.resources.page(o), view),
    async update(id: string, input: UpdateResourceInput, actor: Actor = SYSTEM_ACTOR): Promise<ResourceView> {
      const current = await find(id);
      authorize(actor, { operation: 'resource.update', tenant, target: { builtIn: current.builtIn } });
      if (current.builtIn && input.scopes) throw new AppError('conflict', 'the scopes of a built-in resource cannot change');
      if (input.scopes) checkScopes(input.scopes);
      if (input.accessTokenTtl !== undefined) checkTtl(input.accessTokenTtl);
      const row = await change(actor, { type: 'resource.updated', target: id, data: { changed: Object.keys(input) }, invalidates: true }, async (t) => {
        const updated = await t.resources.update(id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.scopes ? { scopes: [...new Set(input.scopes)] } : {}),
          ...(input.accessTokenTtl !== undefined ? { accessTokenTtl: input.accessTokenTtl } : {}),
        });
        if (!updated) throw new AppError('not_found', 'resource not found');
        return updated;
      });
      return view(row);
    },
    async delete(id: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      const current = await find(id);
      authorize(actor, { operation: 'resource.delete', tenant, target: { builtIn: current.builtIn } });
      if (current.builtIn) throw new AppError('conflict', 'a built-in resource cannot be deleted');
      await change(actor, { type: 'resource.deleted', target: id, data: { audience: current.audience }, invalidates: true }, async (t) => {
        if (!(await t.resources.delete(id))) throw new AppError('not_found', 'resource not found');
      });
    },
  };
}
export type ResourceService = ReturnType<typeof createResourceService>;
