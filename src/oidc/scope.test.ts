/**
 * Scope decisions (CONTRACT §4): what a subject's roles grant on a resource, the token endpoint's
 * rule, and the consent check that ends a browser request whose API grants nothing.
 */
import { errors } from 'oidc-provider';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildTenantModel, grantedScopes, type TenantModel } from './model.ts';
import { NOT_GRANTED, SECOND_FACTOR_REQUIRED, interactionPolicyFor, nothingGranted } from './interactions/policy.ts';
import { decideScope } from './scope.ts';

const api = { id: 'r1', audience: 'https://api.example/', name: 'API', scopes: ['read', 'write', 'admin'], accessTokenTtl: 600, builtIn: false };
const empty = { id: 'r2', audience: 'https://empty.example/', name: 'Empty', scopes: [], accessTokenTtl: 600, builtIn: false };
const buildModel = () =>
  buildTenantModel({
    id: 't',
    slug: 'dept',
    name: 'Dept',
    issuer: 'https://id.example/t/dept',
    signingAlg: 'ES256',
    keys: [],
    publicKeys: [],
    activeKid: 'k',
    resources: [api, empty],
    roles: [
      { id: 'x', name: 'reader', description: null, builtIn: false, permissions: [{ resourceId: 'r1', scope: 'read' }] },
      {
        id: 'y',
        name: 'writer',
        description: null,
        builtIn: false,
        permissions: [
          { resourceId: 'r1', scope: 'write' },
          { resourceId: 'other', scope: 'admin' },
        ],
      },
    ],
  });
// per test (a failing beforeAll would skip the tests, and StrykerJS counts skipped as survived)
let model: TenantModel;
beforeEach(() => {
  model = buildModel();
});

describe('the tenant model', () => {
  // built inside the test (not only at import), so that a change to buildTenantModel is seen
  it('indexes resources by audience and by id, and each role\'s grants as "resource scope"', () => {
    const m = buildModel();
    expect([...m.resources.keys()]).toEqual(['https://api.example/', 'https://empty.example/']);
    expect(m.resources.get('https://api.example/')).toBe(api);
    expect([...m.resourcesById.keys()]).toEqual(['r1', 'r2']);
    expect(m.resourcesById.get('r2')).toBe(empty);
    expect(m.grants).toEqual(
      new Map([
        ['reader', new Set(['r1 read'])],
        ['writer', new Set(['r1 write', 'other admin'])],
      ]),
    );
    expect(m.issuer).toBe('https://id.example/t/dept');
  });
});

describe('granted scopes', () => {
  it("are the resource's scopes some role grants, in the resource's order", () => {
    expect(grantedScopes(model, ['writer', 'reader'], api)).toEqual(['read', 'write']);
    expect(grantedScopes(model, ['reader'], api)).toEqual(['read']);
    // a grant on another resource does not count here
    expect(grantedScopes(model, ['writer'], api)).toEqual(['write']);
    expect(grantedScopes(model, ['unknown-role'], api)).toEqual([]);
    expect(grantedScopes(model, [], api)).toEqual([]);
  });
  it('index resources by audience and id', () => {
    expect(model.resources.get('https://api.example/')).toBe(api);
    expect(model.resourcesById.get('r2')).toBe(empty);
  });
});

describe("the token endpoint's scope rule", () => {
  const granted = ['read', 'write'];
  it('omitted → every granted scope', () => {
    expect(decideScope(undefined, granted, api.scopes)).toEqual(['read', 'write']);
    expect(decideScope('', granted, api.scopes)).toEqual(['read', 'write']);
    expect(decideScope('   ', granted, api.scopes)).toEqual(['read', 'write']);
  });
  it('given → the intersection, in the granted order', () => {
    expect(decideScope('write', granted, api.scopes)).toEqual(['write']);
    expect(decideScope('write  read admin', granted, api.scopes)).toEqual(['read', 'write']);
  });
  it('nothing left → invalid_scope naming what was asked', () => {
    expect(() => decideScope('admin', granted, api.scopes)).toThrow(errors.InvalidScope);
    const refusal = (requested: string | undefined) => {
      try {
        decideScope(
          requested,
          granted.filter(() => requested !== undefined),
          api.scopes,
        );
      } catch (err) {
        return err;
      }
      throw new Error('no refusal');
    };
    const detail = 'requested scope is not granted to this subject for the requested resource';
    expect(refusal('admin other')).toMatchObject({ error: 'invalid_scope', scope: 'admin other', error_description: detail });
    // nothing asked and nothing granted: the scope named is empty
    expect(refusal(undefined)).toMatchObject({ error: 'invalid_scope', scope: '', error_description: detail });
  });
  it('a resource without scopes gives an empty scope, unless one was asked for', () => {
    expect(decideScope(undefined, [], [])).toEqual([]);
    expect(() => decideScope('read', [], [])).toThrow(errors.InvalidScope);
  });
});

describe('the consent check for APIs that grant nothing', () => {
  const ctx = (requested: string[], servers: Record<string, string[]>) =>
    ({
      oidc: {
        requestParamScopes: new Set(requested),
        resourceServers: Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, { scopes: new Set(v) }])),
      },
    }) as never;
  it('asks when a requested API with scopes grants none of those requested', () => {
    expect(nothingGranted(model, ctx(['openid'], { 'https://api.example/': ['read'] }))).toBe(true);
    expect(nothingGranted(model, ctx(['openid', 'write'], { 'https://api.example/': ['read'] }))).toBe(true);
    expect(nothingGranted(model, ctx(['openid', 'read'], { 'https://api.example/': [] }))).toBe(true);
  });
  it('does not when something is granted, or the API has no scopes, or no API is requested', () => {
    expect(nothingGranted(model, ctx(['openid', 'read'], { 'https://api.example/': ['read'] }))).toBe(false);
    expect(nothingGranted(model, ctx(['openid'], { 'https://empty.example/': [] }))).toBe(false);
    expect(nothingGranted(model, ctx(['openid'], {}))).toBe(false);
    expect(nothingGranted(model, { oidc: { requestParamScopes: new Set(['openid']) } } as never)).toBe(false);
  });
  it('looks at every requested API', () => {
    expect(nothingGranted(model, ctx(['read'], { 'https://empty.example/': [], 'https://api.example/': ['write'] }))).toBe(true);
  });
});

describe('the consent prompt of every tenant', () => {
  it('runs the check first, refusing with invalid_scope and saying why', async () => {
    const consent = interactionPolicyFor(model, async () => false).get('consent')!;
    const check = consent.checks[0]!;
    expect(check.reason).toBe(NOT_GRANTED);
    expect(NOT_GRANTED).toBe('rs_scopes_not_granted');
    expect(check.error).toBe('invalid_scope');
    expect(check.description).toBe('none of the requested scopes is granted to this user on the requested resource');
    const ctx = (granted: string[]) =>
      ({ oidc: { requestParamScopes: new Set(['openid', 'read']), resourceServers: { 'https://api.example/': { scopes: new Set(granted) } } } }) as never;
    expect(await check.check(ctx([]))).toBe(true);
    expect(await check.check(ctx(['read']))).toBe(false);
    // oidc-provider's own consent checks still follow
    expect(consent.checks.length).toBeGreaterThan(1);
    expect(consent.checks.map((c) => c.reason)).toContain('op_scopes_missing');
  });

  it('asks a session to sign in again when its sign-in lacks the second factor now needed', async () => {
    const asked: string[] = [];
    const login = interactionPolicyFor(model, async (ctx) => {
      asked.push((ctx as unknown as { oidc: { session: { accountId: string } } }).oidc.session.accountId);
      return asked.length === 1;
    }).get('login')!;
    const check = login.checks.get(SECOND_FACTOR_REQUIRED)!;
    expect(check.description).toBe('a second factor is required');
    const ctx = (accountId?: string) => ({ oidc: { session: accountId ? { accountId } : {} } }) as never;
    expect(await check.check(ctx())).toBe(false);
    expect(asked).toEqual([]);
    expect(await check.check(ctx('u1'))).toBe(true);
    expect(await check.check(ctx('u2'))).toBe(false);
    expect(asked).toEqual(['u1', 'u2']);
    // oidc-provider's own login checks still run
    expect(login.checks.get('no_session')).toBeDefined();
  });

  it('ignores an API the tenant does not know (oidc-provider refuses it elsewhere)', () => {
    const ctx = { oidc: { requestParamScopes: new Set(['read']), resourceServers: { 'https://unknown.example/': { scopes: new Set<string>() } } } } as never;
    expect(nothingGranted(model, ctx)).toBe(false);
  });
});
