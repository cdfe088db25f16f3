/**
 * Client authentication at introspection and revocation, and the client directory's secret check:
 * Basic or body credentials (never both, never two different client ids), confidential clients only
 * (public ones by id for revocation), disabled clients refused, keyed hashes compared in constant
 * time, rotated secrets honoured until their grace ends.
 */
import { errors } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientRepository, ClientRow } from '../../repositories/clients.ts';
import { createSecretBox } from '../../security/crypto.ts';
import type { TenantModel } from '../model.ts';
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
  row('rotating', {
    secrets: [
      { hash: box.keyedHash('new-secret'), expiresAt: null },
      { hash: box.keyedHash('old-secret'), expiresAt: future },
      { hash: box.keyedHash('dead-secret'), expiresAt: past },
    ],
  }),
  row('off', { disabled: true, secrets: [{ hash: box.keyedHash('off-secret'), expiresAt: null }] }),
  row('spa', {
    tokenEndpointAuthMethod: 'none',
    grantTypes: ['authorization_code', 'refresh_token', 'implicit'],
    redirectUris: ['https://spa.example/'],
    postLogoutRedirectUris: ['https://spa.example/bye'],
  }),
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
  // per test, never at collection: an error there fails the file without failing a test
  let dir: ReturnType<typeof directory>['dir'];
  beforeEach(() => {
    dir = directory(rows).dir;
  });
  const auth = (authorization: string | undefined, body: Record<string, string>, opts = {}) => authenticateClient(ctx(authorization), form(body), dir, opts);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as errors.OIDCProviderError,
    );

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

describe('the client directory, exactly', () => {
  afterEach(() => vi.useRealTimers());
  const T0 = new Date('2026-11-29T12:00:00Z').getTime();

  it('remembers a verified secret (one SHA-256 instead of an HMAC on repeat), never another secret', async () => {
    const calls: number[] = [];
    const counting = { ...box, matchesAnyKeyedHash: (s: string, h: readonly string[]) => (calls.push(1), box.matchesAnyKeyedHash(s, h)) };
    const repo = { findByClientId: async (id: string) => rows.find((r) => r.clientId === id) ?? null } as unknown as ClientRepository;
    const dir = createClientDirectory(repo, { resourcesById: new Map() } as unknown as TenantModel, counting);
    expect(await dir.verifySecret('machine', 'machine-secret')).toBe(true);
    expect(calls).toHaveLength(1);
    expect(await dir.verifySecret('machine', 'machine-secret')).toBe(true);
    expect(await dir.verifySecret('machine', 'machine-secret')).toBe(true);
    expect(calls).toHaveLength(1);
    expect(await dir.verifySecret('machine', 'wrong')).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('stops honouring a rotated-out secret exactly when its grace ends, remembered or not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const graceEnds = new Date(T0 + 1_000);
    const rotating = row('r', {
      secrets: [
        { hash: box.keyedHash('new'), expiresAt: null },
        { hash: box.keyedHash('old'), expiresAt: graceEnds },
      ],
    });
    // remembered: the old secret verified once, then its grace runs out
    const { dir } = directory([rotating]);
    expect(await dir.verifySecret('r', 'old')).toBe(true);
    vi.setSystemTime(T0 + 999);
    expect(await dir.verifySecret('r', 'old')).toBe(true);
    vi.setSystemTime(T0 + 1_000);
    expect(await dir.verifySecret('r', 'old')).toBe(false);
    // the new secret, remembered before, is still good after the old one's grace
    const fresh = directory([rotating]).dir;
    vi.setSystemTime(T0);
    expect(await fresh.verifySecret('r', 'new')).toBe(true);
    vi.setSystemTime(T0 + 5_000);
    expect(await fresh.verifySecret('r', 'new')).toBe(true);
    // never verified before: refused at the boundary too
    const cold = directory([rotating]).dir;
    vi.setSystemTime(T0 + 1_000);
    expect(await cold.verifySecret('r', 'old')).toBe(false);
  });

  it('asks nothing for an id that is not a string, and forgets unknown ids once 10,000 others came after', async () => {
    const { dir, lookups } = directory(rows);
    expect(await dir.get(12345 as unknown as string)).toBeUndefined();
    expect(await dir.verifySecret(12345 as unknown as string, 'x')).toBe(false);
    expect(lookups).toEqual([]);
    await dir.get('unknown-0');
    for (let i = 1; i <= 10_000; i++) await dir.get(`unknown-${i}`);
    expect(lookups).toHaveLength(10_001);
    await dir.get('unknown-0');
    expect(lookups).toHaveLength(10_002);
    await dir.get('unknown-10000');
    expect(lookups).toHaveLength(10_002);
  });

  it('has no default resource for an unknown client or one whose resource is gone', async () => {
    const { dir } = directory([row('orphan', { defaultResourceId: 'res-deleted' })]);
    expect(await dir.defaultResource('nobody')).toBeUndefined();
    expect(await dir.defaultResource('orphan')).toBeUndefined();
  });
});

describe('client authentication, exactly', () => {
  const auth = (authorization: string | undefined, body: Record<string, string>, opts = {}, rowsHere = rows) =>
    authenticateClient(ctx(authorization), form(body), directory(rowsHere).dir, opts);
  // invalid_client keeps its description generic ('client authentication failed'); the reason is its detail
  const description = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: unknown) =>
        e instanceof errors.InvalidClientAuth
          ? `${e.error_description}: ${(e as unknown as { error_detail: string }).error_detail}`
          : (e as errors.OIDCProviderError).error_description,
    );
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('says what is wrong', async () => {
    expect(await description(auth('Bearer abc', {}))).toBe('client authentication failed: invalid Authorization header');
    expect(await description(auth(`Basic ${b64('no-colon')}`, {}))).toBe('client authentication failed: invalid Authorization header');
    expect(await description(auth(`Basic ${b64(':secret')}`, {}))).toBe('client authentication failed: client authentication is required');
    expect(await description(auth(`Basic ${b64('machine:')}`, {}))).toBe('client authentication failed: client authentication is required');
    expect(await description(auth(undefined, { client_id: 'machine' }))).toBe('client authentication failed: client authentication is required');
    expect(await description(auth(undefined, {}))).toBe('client authentication failed: client authentication is required');
    expect(await description(auth(basic('machine', 'wrong'), {}))).toBe('client authentication failed: invalid client credentials');
    expect(await description(auth(basic('machine', 'machine-secret'), { client_secret: 'machine-secret' }))).toBe(
      'client authentication must only be provided using one mechanism',
    );
  });

  it('takes the Basic scheme only as the whole header', async () => {
    const good = b64('machine:machine-secret');
    expect((await auth(`Basic ${good}`, {})).clientId).toBe('machine');
    expect((await auth(`basic ${good}`, {})).clientId).toBe('machine');
    expect(await description(auth(`XBasic ${good}`, {}))).toBe('client authentication failed: invalid Authorization header');
    expect(await description(auth(`Basic ${good} trailing`, {}))).toBe('client authentication failed: invalid Authorization header');
  });

  it('decodes + as a space in Basic credentials (form encoding, RFC 6749 §2.3.1)', async () => {
    const spaced = [row('a.b', { secrets: [{ hash: box.keyedHash('p w'), expiresAt: null }] })];
    expect((await auth(`Basic ${b64('a.b:p+w')}`, {}, {}, spaced)).clientId).toBe('a.b');
    expect(await description(auth(`Basic ${b64('a.b:p w+')}`, {}, {}, spaced))).toBe('client authentication failed: invalid client credentials');
    // in the id too: "a+b" is "a b", which no client can be, never the client "ab"
    const ab = [row('ab', { secrets: [{ hash: box.keyedHash('s'), expiresAt: null }] })];
    expect((await auth(`Basic ${b64('ab:s')}`, {}, {}, ab)).clientId).toBe('ab');
    expect(await description(auth(`Basic ${b64('a+b:s')}`, {}, {}, ab))).toBe('client authentication failed: invalid client credentials');
  });

  it('never lets a public client in with a secret, nor by id where public clients are not allowed', async () => {
    expect(await description(auth(undefined, { client_id: 'spa', client_secret: 'anything' }, { allowPublic: true }))).toBe(
      'client authentication failed: invalid client credentials',
    );
    expect(await description(auth(basic('spa', 'anything'), {}, { allowPublic: true }))).toBe('client authentication failed: invalid client credentials');
    // a public client that somehow has a secret row is still not a confidential client
    const odd = [row('odd', { tokenEndpointAuthMethod: 'none', secrets: [{ hash: box.keyedHash('odd-secret'), expiresAt: null }] })];
    expect(await description(auth(basic('odd', 'odd-secret'), {}, {}, odd))).toBe('client authentication failed: invalid client credentials');
  });
});
