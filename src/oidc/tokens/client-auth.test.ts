/**
 * Client authentication at introspection and revocation, and the client directory's secret check:
 * Basic or body credentials (never both, never two different client ids), confidential clients only
 * (public ones by id for revocation), disabled clients refused, keyed hashes compared in constant
 * time, rotated secrets honoured until their grace ends.
 */
import { errors } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import type { ClientRepository, ClientRow } from '../../repositories/clients.ts';
import { createSecretBox } from '../../security/crypto.ts';
import type { TenantModel } from '../../tenants/model.ts';
import { createClientDirectory } from '../adapters/clients.ts';
import { authenticateClient } from './client-auth.ts';

const box = createSecretBox(Buffer.alloc(32, 3));
const row = (clientId: string, extra: Partial<ClientRow> = {}): ClientRow => ({
  id: `row-${clientId}`,
  clientId,
  name: clientId,
  grantTypes: ['client_credentials'],
  redirectUris: [],
  postLogoutRedirectUris: [],
  tokenEndpointAuthMethod: 'client_secret_basic',
  defaultResourceId: null,
  firstParty: false,
  builtIn: false,
  disabled: false,
  refreshTokenAbsoluteTtl: null,
  refreshTokenIdleTtl: null,
  rateLimitPerHour: null,
  roles: [],
  secrets: [],
  ...extra,
});

function directory(rows: ClientRow[]) {
  const lookups: string[] = [];
  const repo = {
    findByClientId: async (id: string) => {
      lookups.push(id);
      return rows.find((r) => r.clientId === id) ?? null;
    },
  } as unknown as ClientRepository;
  const model = { resourcesById: new Map([['res-1', { audience: 'https://api.example/' }]]) } as unknown as TenantModel;
  return { dir: createClientDirectory(repo, model, box), lookups };
}

const future = new Date(Date.now() + 3600_000);
const past = new Date(Date.now() - 1000);
const rows = [
  row('machine', { secrets: [{ hash: box.keyedHash('machine-secret'), expiresAt: null }], defaultResourceId: 'res-1' }),
  row('rotating', { secrets: [{ hash: box.keyedHash('new-secret'), expiresAt: null }, { hash: box.keyedHash('old-secret'), expiresAt: future }, { hash: box.keyedHash('dead-secret'), expiresAt: past }] }),
  row('off', { disabled: true, secrets: [{ hash: box.keyedHash('off-secret'), expiresAt: null }] }),
  row('spa', { tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token', 'implicit'], redirectUris: ['https://spa.example/'], postLogoutRedirectUris: ['https://spa.example/bye'] }),
];

const ctx = (authorization?: string) => ({ get: (h: string) => (h === 'authorization' ? (authorization ?? '') : '') }) as never;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (o: Record<string, string>) => new URLSearchParams(o);

describe('the client directory', () => {
  it('verifies current and in-grace secrets, never expired or foreign ones', async () => {
    const { dir } = directory(rows);
    expect(await dir.verifySecret('machine', 'machine-secret')).toBe(true);
    expect(await dir.verifySecret('machine', 'machine-secret ')).toBe(false);
    expect(await dir.verifySecret('rotating', 'new-secret')).toBe(true);
    expect(await dir.verifySecret('rotating', 'old-secret')).toBe(true);
    expect(await dir.verifySecret('rotating', 'dead-secret')).toBe(false);
    expect(await dir.verifySecret('machine', 'new-secret')).toBe(false);
    expect(await dir.verifySecret('nobody', 'machine-secret')).toBe(false);
    expect(await dir.verifySecret('machine', undefined as unknown as string)).toBe(false);
    // the remembered digest of a verified secret does not let another one in
    expect(await dir.verifySecret('machine', 'machine-secret')).toBe(true);
    expect(await dir.verifySecret('machine', 'machine-secreT')).toBe(false);
  });

  it('stops honouring a remembered old secret when its grace ends', async () => {
    const soon = new Date(Date.now() + 150);
    const { dir } = directory([row('brief', { secrets: [{ hash: box.keyedHash('brief-secret'), expiresAt: soon }] })]);
    expect(await dir.verifySecret('brief', 'brief-secret')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(await dir.verifySecret('brief', 'brief-secret')).toBe(false);
  });

  it('never looks up an id no client can have, and remembers unknown ids', async () => {
    const { dir, lookups } = directory(rows);
    for (const id of ['', 'a b', 'a\u0000b', 'é', 'x'.repeat(201)]) expect(await dir.get(id)).toBeUndefined();
    expect(lookups).toEqual([]);
    expect(await dir.get('nobody')).toBeUndefined();
    expect(await dir.get('nobody')).toBeUndefined();
    expect(await dir.get('machine')).toMatchObject({ clientId: 'machine' });
    expect(await dir.get('machine')).toMatchObject({ clientId: 'machine' });
    expect(lookups).toEqual(['nobody', 'machine']);
    expect(dir.peek('machine')).toMatchObject({ clientId: 'machine' });
    expect(dir.peek('spa')).toBeUndefined();
  });

  it('gives oidc-provider metadata without the secret, only the grants this build serves, and nothing for a disabled client', async () => {
    const { dir } = directory(rows);
    const adapter = dir.adapter(new Set(['client_credentials', 'authorization_code', 'refresh_token']));
    expect(await adapter.find('machine')).toEqual({
      client_id: 'machine',
      client_name: 'machine',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: 'stored-as-keyed-hash',
    });
    expect(await adapter.find('spa')).toEqual({
      client_id: 'spa',
      client_name: 'spa',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://spa.example/'],
      post_logout_redirect_uris: ['https://spa.example/bye'],
      token_endpoint_auth_method: 'none',
    });
    expect(await adapter.find('off')).toBeUndefined();
    expect(await adapter.find('nobody')).toBeUndefined();
    await expect(adapter.upsert('x', {}, 1)).rejects.toThrow('clients are managed through the Tessera admin API');
    expect(await dir.defaultResource('machine')).toBe('https://api.example/');
    expect(await dir.defaultResource('spa')).toBeUndefined();
  });
});

describe('client authentication at introspection and revocation', () => {
  const { dir } = directory(rows);
  const auth = (authorization: string | undefined, body: Record<string, string>, opts = {}) => authenticateClient(ctx(authorization), form(body), dir, opts);
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as errors.OIDCProviderError);

  it('accepts Basic or body credentials of a confidential client', async () => {
    expect((await auth(basic('machine', 'machine-secret'), {})).clientId).toBe('machine');
    expect((await auth(undefined, { client_id: 'machine', client_secret: 'machine-secret' })).clientId).toBe('machine');
    expect((await auth(basic('rotating', 'old-secret'), {})).clientId).toBe('rotating');
    // Basic with the same client id in the body is fine
    expect((await auth(basic('machine', 'machine-secret'), { client_id: 'machine' })).clientId).toBe('machine');
  });

  it('refuses wrong, missing, disabled and public credentials as invalid_client', async () => {
    for (const [header, body] of [
      [basic('machine', 'wrong'), {}],
      [undefined, { client_id: 'machine', client_secret: 'wrong' }],
      [undefined, { client_id: 'machine' }],
      [undefined, {}],
      [basic('off', 'off-secret'), {}],
      [basic('nobody', 'x'), {}],
      [basic('spa', 'anything'), {}],
      ['Bearer abc', {}],
      ['Basic !!!', {}],
      [`Basic ${Buffer.from('no-colon').toString('base64')}`, {}],
      [`Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`, {}],
    ] as [string | undefined, Record<string, string>][]) {
      const err = await refusal(auth(header, body));
      expect(err, `${header} ${JSON.stringify(body)}`).toBeInstanceOf(errors.InvalidClientAuth);
      expect(err!.statusCode).toBe(401);
    }
  });

  it('refuses two mechanisms, or two different client ids, as invalid_request', async () => {
    const both = await refusal(auth(basic('machine', 'machine-secret'), { client_secret: 'machine-secret' }));
    expect(both).toBeInstanceOf(errors.InvalidRequest);
    const mismatch = await refusal(auth(basic('machine', 'machine-secret'), { client_id: 'rotating' }));
    expect(mismatch).toBeInstanceOf(errors.InvalidRequest);
    expect(mismatch!.error_description).toBe('mismatch in body and authorization client ids');
  });

  it('lets a public client identify itself by id where allowed (revocation), never a disabled one', async () => {
    expect((await auth(undefined, { client_id: 'spa' }, { allowPublic: true })).clientId).toBe('spa');
    expect(await refusal(auth(undefined, { client_id: 'spa' }))).toBeInstanceOf(errors.InvalidClientAuth);
    expect(await refusal(auth(undefined, { client_id: 'machine' }, { allowPublic: true }))).toBeInstanceOf(errors.InvalidClientAuth);
    expect(await refusal(auth(undefined, { client_id: 'nobody' }, { allowPublic: true }))).toBeInstanceOf(errors.InvalidClientAuth);
    const off = directory([row('gone', { tokenEndpointAuthMethod: 'none', disabled: true })]).dir;
    expect(await refusal(authenticateClient(ctx(undefined), form({ client_id: 'gone' }), off, { allowPublic: true }))).toBeInstanceOf(errors.InvalidClientAuth);
  });

  it('decodes percent-encoded Basic credentials (RFC 6749 §2.3.1)', async () => {
    const { dir: d } = directory([row('a:b', { secrets: [{ hash: box.keyedHash('p+w%:d c'), expiresAt: null }] })]);
    const header = basic('a:b', 'p+w%:d c');
    expect((await authenticateClient(ctx(header), form({}), d)).clientId).toBe('a:b');
  });
});
