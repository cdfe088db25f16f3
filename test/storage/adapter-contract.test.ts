/**
 * The oidc-provider Adapter contract (what node-oidc-provider's memory adapter and its test hold),
 * kept by Tessera's SQL adapter over the real repositories, on the embedded PGlite and on
 * PostgreSQL. Each backend gets a fresh database (migrated, dropped afterwards) holding two
 * tenants; grant revocation goes through the production revocation list, wired as provider.ts
 * wires it: SQL, then its mirror in Redis (TEST_REDIS_URL, on both backends).
 *
 * Beyond the memory adapter: values are stored only as digests (checked on the raw table), every
 * lookup is scoped to one tenant, and a consumed artifact stays consumed when it is saved again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
// @ts-expect-error: oidc-provider's request-context storage (Provider.ctx), to run as inside a route
import als from 'oidc-provider/lib/helpers/als.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSqlAdapter } from '../../src/oidc/adapters/sql.ts';
import { requestState } from '../../src/oidc/request-context.ts';
import { createRepositories, type TenantRepos } from '../../src/repositories/index.ts';
import { digest } from '../../src/security/crypto.ts';
import {
  REVOCATION_MEMORY_MS,
  createRevocationList,
  createRevocationMirror,
  type RevocationList,
  type RevocationMirror,
} from '../../src/services/revocation-list.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { BACKENDS, requiredUrl, type Backend } from '../helpers/backends.ts';

/** the key prefix of the Redis store (src/store/redis.ts) */
const PREFIX = 'tessera:';

/** a value as oidc-provider makes them (nanoid, 256 bits) */
const value = () => randomBytes(32).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** runs `fn` as inside one of oidc-provider's routes (one request) */
const inRequest = <T>(fn: () => Promise<T>): Promise<T> => (als as { run: (s: object, f: () => Promise<T>) => Promise<T> }).run({}, fn);

interface FreshDatabase {
  db: Database;
  drop(): Promise<void>;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** a fresh, migrated database: its own PostgreSQL database, or its own PGlite directory */
async function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  let release: () => Promise<void>;
  let db: Database | undefined;
  if (backend === 'postgres') {
    const admin = requiredUrl('TEST_DATABASE_URL');
    const name = `tessera_adapter_${randomBytes(6).toString('hex')}`;
    await adminQuery(admin, `CREATE DATABASE ${name}`);
    release = () => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    try {
      db = await openDatabase({ databaseUrl: url.href, dataDir: '', poolSize: 4 });
    } catch (err) {
      await release();
      throw err;
    }
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-adapter-'));
    release = () => rm(dir, { recursive: true, force: true });
    try {
      db = await openDatabase({ dataDir: dir });
    } catch (err) {
      await release();
      throw err;
    }
  }
  const opened = db;
  const drop = async () => {
    await opened.close().catch(() => {});
    await release();
  };
  try {
    await migrate(opened);
  } catch (err) {
    await drop();
    throw err;
  }
  return { db: opened, drop };
}

/** a connected Redis store: the server store has no offline queue, so wait until it answers */
async function connectedStore(url: string): Promise<Store> {
  const store = createStore(url);
  for (let i = 0; ; i++) {
    try {
      await store.ping();
      return store;
    } catch (err) {
      if (i >= 50) {
        await store.close();
        throw new Error(`Redis at ${url} does not answer`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface Tenant {
  id: string;
  repos: TenantRepos;
  revocations: RevocationList;
  /** the adapter exactly as provider.ts builds it for this tenant */
  adapter(model: string, reuseIntervalMs?: number): Adapter;
}

function tenantOf(db: Database, mirror: RevocationMirror, id: string): Tenant {
  const repos = createRepositories(db.prisma).forTenant(id);
  const revocations = createRevocationList(mirror, repos.revocations, repos.artifacts, id);
  return {
    id,
    repos,
    revocations,
    adapter: (model, reuseIntervalMs = 0) => createSqlAdapter(model, repos.artifacts, (grantId) => revocations.revokeGrant(grantId), reuseIntervalMs),
  };
}

/** payloads shaped as oidc-provider 9 stores them, for the models Tessera keeps in SQL */
function payloads(ids: { grantId: string; sessionUid: string; accountId: string; userCode: string }) {
  const iat = now();
  const base = { iat, exp: iat + 600 };
  return {
    AccessToken: {
      ...base,
      kind: 'AccessToken',
      accountId: ids.accountId,
      clientId: 'webapp',
      grantId: ids.grantId,
      gty: 'authorization_code',
      scope: 'openid profile',
      sessionUid: ids.sessionUid,
      expiresWithSession: true,
      aud: 'https://api.example.org',
      extra: {},
    },
    AuthorizationCode: {
      ...base,
      kind: 'AuthorizationCode',
      accountId: ids.accountId,
      acr: 'urn:mace:incommon:iap:bronze',
      authTime: iat - 5,
      clientId: 'webapp',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      grantId: ids.grantId,
      nonce: 'n-0S6_WzA2Mj',
      redirectUri: 'https://app.example.org/cb',
      resource: 'https://api.example.org',
      scope: 'openid',
      sessionUid: ids.sessionUid,
      claims: { id_token: { email: null, auth_time: { essential: true } } },
    },
    RefreshToken: {
      ...base,
      kind: 'RefreshToken',
      accountId: ids.accountId,
      clientId: 'webapp',
      grantId: ids.grantId,
      gty: 'authorization_code',
      iiat: iat,
      rotations: 0,
      scope: 'openid offline_access',
      sessionUid: ids.sessionUid,
      expiresWithSession: false,
    },
    DeviceCode: {
      ...base,
      kind: 'DeviceCode',
      clientId: 'tv',
      grantId: ids.grantId,
      userCode: ids.userCode,
      deviceInfo: { ip: '192.0.2.1', ua: 'TV/1.0' },
      params: { client_id: 'tv', scope: 'openid' },
    },
    Session: {
      ...base,
      kind: 'Session',
      uid: ids.sessionUid,
      accountId: ids.accountId,
      loginTs: iat - 5,
      amr: ['pwd'],
      authorizations: { webapp: { sid: 'sid-1', grantId: ids.grantId, persistsLogout: false } },
    },
    Interaction: {
      ...base,
      kind: 'Interaction',
      returnTo: 'https://issuer.example.org/t/acme/auth/abc',
      prompt: { name: 'consent', reasons: ['op_scopes_missing'], details: { missingOIDCScope: ['openid'] } },
      params: { client_id: 'webapp', state: 'é ☃ 𝄞 "quoted" \\u0000-escaped-not-NUL', redirect_uri: 'https://app.example.org/cb' },
      session: { accountId: ids.accountId, uid: ids.sessionUid },
      grantId: ids.grantId,
      cid: 'cid-1',
      lastSubmission: { login: { accountId: ids.accountId } },
      trusted: [],
    },
    Grant: {
      ...base,
      kind: 'Grant',
      accountId: ids.accountId,
      clientId: 'webapp',
      openid: { scope: 'openid profile', claims: ['sub'] },
      resources: { 'https://api.example.org': 'read write' },
      rejected: {},
    },
  } satisfies Record<string, AdapterPayload>;
}
type Model = keyof ReturnType<typeof payloads>;
const MODELS = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'Session', 'Interaction', 'Grant'] as const satisfies readonly Model[];
/** the models oidc-provider's revoke helper calls revokeByGrantId on (those Tessera can issue) */
const GRANTABLE = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode'] as const satisfies readonly Model[];
/** single-use models (oidc-provider consumes them) */
const CONSUMABLE = ['AuthorizationCode', 'RefreshToken', 'DeviceCode'] as const satisfies readonly Model[];

describe.each(BACKENDS)('the oidc-provider adapter contract on %s', (backend) => {
  let fresh: FreshDatabase;
  let db: Database;
  let store: Store;
  let mirror: RevocationMirror;
  let redis: Redis;
  let A: Tenant;
  let B: Tenant;

  beforeAll(async () => {
    // both servers are required (the revocation mirror is Redis on either backend): fail, never skip
    const redisUrl = requiredUrl('TEST_REDIS_URL');
    if (backend === 'postgres') requiredUrl('TEST_DATABASE_URL');
    store = await connectedStore(redisUrl);
    redis = new Redis(redisUrl, { lazyConnect: false });
    mirror = createRevocationMirror(store);
    fresh = await freshDatabase(backend);
    db = fresh.db;
    const tenants = createRepositories(db.prisma).tenants;
    const suffix = randomBytes(4).toString('hex');
    const [a, b] = await Promise.all([
      tenants.create({ slug: `contract-a-${suffix}`, name: 'A', signingAlg: 'ES256' }),
      tenants.create({ slug: `contract-b-${suffix}`, name: 'B', signingAlg: 'ES256' }),
    ]);
    A = tenantOf(db, mirror, a.id);
    B = tenantOf(db, mirror, b.id);
  });

  afterAll(async () => {
    // this suite's mirror keys only: other suites share the Redis
    for (const t of [A, B].filter(Boolean)) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${PREFIX}rv:*:${t.id}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      if (keys.length) await redis.del(...keys);
    }
    mirror?.close();
    redis?.disconnect();
    await store?.close();
    await fresh?.drop();
  });

  afterEach(() => vi.useRealTimers());

  /** a fresh set of identifiers and the payloads that use them */
  const sample = () => {
    const ids = { grantId: value(), sessionUid: value(), accountId: randomUUID(), userCode: `${randomBytes(4).toString('hex').toUpperCase()}-WXYZ` };
    return { ids, payloads: payloads(ids) };
  };

  /** writes one artifact of every model for `tenant`; the values, by model */
  async function writeEveryModel(tenant: Tenant, p = sample().payloads, expiresIn = 600) {
    const values = {} as Record<Model, string>;
    for (const model of MODELS) {
      const v = value();
      values[model] = v;
      await tenant.adapter(model).upsert(v, { ...p[model], jti: v }, expiresIn);
    }
    return values;
  }

  const rawRow = (tenant: Tenant, model: string, v: string) =>
    db.prisma.oidcArtifact.findUnique({ where: { tenantId_model_id: { tenantId: tenant.id, model, id: digest(v) } } });

  describe('upsert and find', () => {
    it.each(MODELS)('gives back %s as it was stored, with its value as jti', async (model) => {
      const { payloads: p } = sample();
      const adapter = A.adapter(model);
      const v = value();
      await adapter.upsert(v, { ...p[model], jti: v }, 600);
      expect(await adapter.find(v)).toEqual({ ...p[model], jti: v });
      // nothing under another value, and nothing under the digest itself
      expect(await adapter.find(value())).toBeUndefined();
      expect(await adapter.find(digest(v))).toBeUndefined();
    });

    it('keeps each model apart: the same value under two models is two artifacts', async () => {
      const { payloads: p } = sample();
      const v = value();
      await A.adapter('AuthorizationCode').upsert(v, { ...p.AuthorizationCode, jti: v }, 600);
      expect(await A.adapter('RefreshToken').find(v)).toBeUndefined();
      await A.adapter('RefreshToken').upsert(v, { ...p.RefreshToken, jti: v }, 600);
      expect(await A.adapter('AuthorizationCode').find(v)).toMatchObject({ kind: 'AuthorizationCode' });
      expect(await A.adapter('RefreshToken').find(v)).toMatchObject({ kind: 'RefreshToken' });
      await A.adapter('RefreshToken').destroy(v);
      expect(await A.adapter('AuthorizationCode').find(v)).toMatchObject({ kind: 'AuthorizationCode' });
    });

    it('replaces an artifact saved again under the same value, its indexes included', async () => {
      const first = sample();
      const second = sample();
      const v = value();
      const sessions = A.adapter('Session');
      await sessions.upsert(v, { ...first.payloads.Session, jti: v }, 600);
      // oidc-provider saves a session again with members added and removed
      const { amr: _amr, ...withoutAmr } = second.payloads.Session;
      await sessions.upsert(v, { ...withoutAmr, acr: 'urn:acr:2', jti: v }, 1200);
      expect(await sessions.find(v)).toEqual({ ...withoutAmr, acr: 'urn:acr:2', jti: v });
      expect(await sessions.findByUid(first.ids.sessionUid)).toBeUndefined();
      expect(await sessions.findByUid(second.ids.sessionUid)).toMatchObject({ uid: second.ids.sessionUid });
      expect((await rawRow(A, 'Session', v))!.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 1100_000);

      // a token moved to another grant is revoked with that grant, not the first one
      const codes = A.adapter('AuthorizationCode');
      const c = value();
      await codes.upsert(c, { ...first.payloads.AuthorizationCode, jti: c }, 600);
      await codes.upsert(c, { ...second.payloads.AuthorizationCode, jti: c }, 600);
      await codes.revokeByGrantId(first.ids.grantId);
      expect(await codes.find(c)).toMatchObject({ grantId: second.ids.grantId });
      await codes.revokeByGrantId(second.ids.grantId);
      expect(await codes.find(c)).toBeUndefined();
    });

    it('keeps JSON exactly: unicode, nulls, empty containers, large and negative numbers, deep nesting', async () => {
      const adapter = A.adapter('Interaction');
      const v = value();
      let deep: unknown = { leaf: 'x' };
      for (let i = 0; i < 50; i++) deep = { d: [deep] };
      const payload = {
        kind: 'Interaction',
        iat: now(),
        exp: now() + 60,
        params: {
          unicode: 'Grüße, 東京, 🙂, \u2028\u2029, tab\there',
          nothing: null,
          empty: {},
          list: [],
          numbers: [0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-7],
          flags: [true, false],
          'dotted.key': 'a',
          $dollar: 'b',
          deep,
        },
      } as unknown as AdapterPayload;
      await adapter.upsert(v, { ...payload, jti: v }, 60);
      expect(await adapter.find(v)).toEqual({ ...payload, jti: v });
    });
  });

  describe('values never stored in clear', () => {
    it('stores every model under the SHA-256 digest of its value, which is nowhere in the table', async () => {
      const values = await writeEveryModel(A);
      for (const model of MODELS) {
        const row = await rawRow(A, model, values[model]);
        expect(row, model).not.toBeNull();
        expect(row!.id).toMatch(/^[\w-]{43}$/);
        expect(row!.payload).not.toHaveProperty('jti');
      }
      // every column of every row, as PostgreSQL renders it
      const rows = await db.prisma.$queryRaw<{ row: string }[]>`SELECT t::text AS row FROM oidc_artifacts t`;
      expect(rows.length).toBeGreaterThanOrEqual(MODELS.length);
      const table = rows.map((r) => r.row).join('\n');
      for (const model of MODELS) expect(table, model).not.toContain(values[model]);
    });

    it('stores a refresh token rotated within a request under its digest too', async () => {
      const { payloads: p } = sample();
      const refresh = A.adapter('RefreshToken');
      const [old, successor] = [value(), value()];
      await refresh.upsert(old, { ...p.RefreshToken, jti: old }, 600);
      const rotation = await inRequest(async () => {
        await refresh.consume(old);
        await refresh.upsert(successor, { ...p.RefreshToken, rotations: 1, jti: successor }, 600);
        return requestState()!.pendingRotation!;
      });
      expect(await A.repos.artifacts.rotate(rotation.model, rotation.oldId, rotation.id, rotation.data)).toBe(true);
      const rows = await db.prisma.$queryRaw<{ row: string }[]>`SELECT t::text AS row FROM oidc_artifacts t WHERE tenant_id = ${A.id}::uuid`;
      const table = rows.map((r) => r.row).join('\n');
      expect(table).toContain(digest(successor));
      expect(table).not.toContain(successor);
      expect(table).not.toContain(old);
    });
  });

  describe('expiry', () => {
    it('hides an artifact once expiresIn seconds have passed, from find, findByUid and findByUserCode', async () => {
      const { ids, payloads: p } = sample();
      const before = Date.now();
      const values = await writeEveryModel(A, p, 60);
      const after = Date.now();
      for (const model of MODELS) {
        const row = await rawRow(A, model, values[model]);
        expect(row!.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
        expect(row!.expiresAt!.getTime()).toBeLessThanOrEqual(after + 60_000);
      }
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(before + 59_000);
      for (const model of MODELS) expect(await A.adapter(model).find(values[model]), model).toMatchObject({ kind: model });
      expect(await A.adapter('Session').findByUid(ids.sessionUid)).toMatchObject({ uid: ids.sessionUid });
      expect(await A.adapter('DeviceCode').findByUserCode(ids.userCode)).toMatchObject({ userCode: ids.userCode });
      vi.setSystemTime(after + 60_001);
      for (const model of MODELS) expect(await A.adapter(model).find(values[model]), model).toBeUndefined();
      expect(await A.adapter('Session').findByUid(ids.sessionUid)).toBeUndefined();
      expect(await A.adapter('DeviceCode').findByUserCode(ids.userCode)).toBeUndefined();
    });

    it('keeps an artifact saved without expiresIn', async () => {
      const { payloads: p } = sample();
      const grants = A.adapter('Grant');
      const v = value();
      await grants.upsert(v, { ...p.Grant, jti: v });
      expect((await rawRow(A, 'Grant', v))!.expiresAt).toBeNull();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 400 * 86_400_000);
      expect(await grants.find(v)).toMatchObject({ kind: 'Grant' });
    });
  });

  describe('consume', () => {
    it.each(CONSUMABLE)('consumes %s once, and find then says when', async (model) => {
      const { payloads: p } = sample();
      const adapter = A.adapter(model);
      const v = value();
      await adapter.upsert(v, { ...p[model], jti: v }, 600);
      expect(await adapter.find(v)).not.toHaveProperty('consumed');
      const before = now();
      await adapter.consume(v);
      const after = now();
      const found = await adapter.find(v);
      expect(found).toEqual({ ...p[model], jti: v, consumed: expect.any(Number) });
      expect(found!.consumed).toBeGreaterThanOrEqual(before);
      expect(found!.consumed).toBeLessThanOrEqual(after);
      expect((await rawRow(A, model, v))!.consumedAt).toBeInstanceOf(Date);
      // single use
      await expect(adapter.consume(v)).rejects.toBeInstanceOf(errors.InvalidGrant);
      // nothing to consume: refused, and nothing stored
      const missing = value();
      await expect(adapter.consume(missing)).rejects.toBeInstanceOf(errors.InvalidGrant);
      expect(await rawRow(A, model, missing)).toBeNull();
    });

    it('lets exactly one of several parallel consumers have an authorization code', async () => {
      const { payloads: p } = sample();
      const codes = A.adapter('AuthorizationCode');
      const v = value();
      await codes.upsert(v, { ...p.AuthorizationCode, jti: v }, 600);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => codes.consume(v)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(errors.InvalidGrant);
    });

    it('keeps an artifact consumed when it is saved again', async () => {
      const { payloads: p } = sample();
      const devices = A.adapter('DeviceCode');
      const v = value();
      await devices.upsert(v, { ...p.DeviceCode, jti: v }, 600);
      await devices.consume(v);
      // oidc-provider saves a device code again (e.g. with the result of the user's decision)
      await devices.upsert(v, { ...p.DeviceCode, accountId: 'x', jti: v }, 600);
      expect(await devices.find(v)).toMatchObject({ accountId: 'x', consumed: expect.any(Number) });
      await expect(devices.consume(v)).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('within a request, only notes a refresh token rotation; committed, the old one is consumed and the successor stored', async () => {
      const { payloads: p } = sample();
      const refresh = A.adapter('RefreshToken', 60_000);
      const [old, successor] = [value(), value()];
      await refresh.upsert(old, { ...p.RefreshToken, jti: old }, 600);
      const rotation = await inRequest(async () => {
        await refresh.consume(old);
        await refresh.upsert(successor, { ...p.RefreshToken, rotations: 1, jti: successor }, 600);
        return requestState()!.pendingRotation!;
      });
      // nothing changed yet (the refresh may still be refused)
      expect(await refresh.find(old)).not.toHaveProperty('consumed');
      expect(await refresh.find(successor)).toBeUndefined();
      // what the refresh grant's wrapper does once the response is ready
      expect(await A.repos.artifacts.rotate(rotation.model, rotation.oldId, rotation.id, rotation.data)).toBe(true);
      expect(await refresh.find(successor)).toEqual({ ...p.RefreshToken, rotations: 1, jti: successor });
      // consumed less than the reuse interval ago: not found (a parallel request, not a replay) ...
      expect(await refresh.find(old)).toBeUndefined();
      expect((await rawRow(A, 'RefreshToken', old))!.consumedAt).toBeInstanceOf(Date);
      // ... and later, consumed (a replay, which revokes the grant)
      expect(await A.adapter('RefreshToken').find(old)).toMatchObject({ consumed: expect.any(Number) });
      // a second rotation of the same token stores nothing
      const other = value();
      expect(await A.repos.artifacts.rotate('RefreshToken', digest(old), digest(other), rotation.data)).toBe(false);
      expect(await refresh.find(other)).toBeUndefined();
    });
  });

  describe('destroy', () => {
    it.each(MODELS)('removes %s, and nothing else', async (model) => {
      const { payloads: p } = sample();
      const v = value();
      await A.adapter(model).upsert(v, { ...p[model], jti: v }, 600);
      await B.adapter(model).upsert(v, { ...p[model], jti: v }, 600);
      const neighbour = value();
      await A.adapter(model).upsert(neighbour, { ...p[model], jti: neighbour }, 600);
      await A.adapter(model).destroy(v);
      expect(await A.adapter(model).find(v)).toBeUndefined();
      expect(await rawRow(A, model, v)).toBeNull();
      expect(await A.adapter(model).find(neighbour)).toMatchObject({ kind: model });
      expect(await B.adapter(model).find(v)).toMatchObject({ kind: model });
      // destroying what is not there (or no longer) is no error
      await A.adapter(model).destroy(v);
      await A.adapter(model).destroy(value());
    });

    it('removes a session from findByUid too', async () => {
      const { ids, payloads: p } = sample();
      const sessions = A.adapter('Session');
      const v = value();
      await sessions.upsert(v, { ...p.Session, jti: v }, 600);
      await sessions.destroy(v);
      expect(await sessions.findByUid(ids.sessionUid)).toBeUndefined();
    });
  });

  describe('findByUid and findByUserCode', () => {
    it('finds a session by its uid (its value is not given back: it is not stored)', async () => {
      const { ids, payloads: p } = sample();
      const sessions = A.adapter('Session');
      const v = value();
      await sessions.upsert(v, { ...p.Session, jti: v }, 600);
      const found = await sessions.findByUid(ids.sessionUid);
      expect(found).toEqual(p.Session);
      expect(found).not.toHaveProperty('jti');
      expect(await sessions.findByUid(value())).toBeUndefined();
      // only sessions: an interaction carries the session's uid, and is not found by it
      const i = value();
      await A.adapter('Interaction').upsert(i, { ...p.Interaction, jti: i }, 600);
      expect(await A.adapter('Interaction').findByUid(ids.sessionUid)).toBeUndefined();
    });

    it('finds a device code by its user code, consumed or not', async () => {
      const { ids, payloads: p } = sample();
      const devices = A.adapter('DeviceCode');
      const v = value();
      await devices.upsert(v, { ...p.DeviceCode, jti: v }, 600);
      const found = await devices.findByUserCode(ids.userCode);
      expect(found).toEqual(p.DeviceCode);
      expect(found).not.toHaveProperty('jti');
      expect(await devices.findByUserCode(`${ids.userCode}X`)).toBeUndefined();
      expect(await A.adapter('AuthorizationCode').findByUserCode(ids.userCode)).toBeUndefined();
      await devices.consume(v);
      expect(await devices.findByUserCode(ids.userCode)).toMatchObject({ userCode: ids.userCode, consumed: expect.any(Number) });
    });
  });

  describe('revokeByGrantId', () => {
    const grantKey = (tenant: Tenant, grantId: string) => `${PREFIX}rv:g:${tenant.id}:${grantId}`;

    it('removes every artifact of the grant, and records the grant revoked in SQL and in the Redis mirror', async () => {
      const revoked = sample();
      const kept = sample();
      const revokedValues = await writeEveryModel(A, revoked.payloads);
      const keptValues = await writeEveryModel(A, kept.payloads);
      // as oidc-provider's revoke helper does: every grantable model, in parallel
      const before = Date.now();
      await Promise.all(GRANTABLE.map((model) => A.adapter(model).revokeByGrantId(revoked.ids.grantId)));
      const after = Date.now();

      for (const model of GRANTABLE) {
        expect(await A.adapter(model).find(revokedValues[model]), model).toBeUndefined();
        expect(await A.adapter(model).find(keptValues[model]), model).toMatchObject({ grantId: kept.ids.grantId });
      }
      expect(await db.prisma.oidcArtifact.count({ where: { tenantId: A.id, grantId: revoked.ids.grantId } })).toBe(0);
      // the Grant itself is destroyed by oidc-provider (Grant.adapter.destroy), the session stays
      expect(await A.adapter('Grant').find(revokedValues.Grant)).toMatchObject({ kind: 'Grant' });
      expect(await A.adapter('Session').find(revokedValues.Session)).toMatchObject({ kind: 'Session' });

      // SQL: once, remembered for as long as a token of the grant can live
      const rows = await db.prisma.revokedGrant.findMany({ where: { tenantId: A.id, grantId: revoked.ids.grantId } });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + REVOCATION_MEMORY_MS - 1000);
      expect(rows[0]!.expiresAt.getTime()).toBeLessThanOrEqual(after + REVOCATION_MEMORY_MS + 1000);
      // the Redis mirror, with the same lifetime
      expect(await redis.get(grantKey(A, revoked.ids.grantId))).toBe('1');
      const ttl = await redis.pttl(grantKey(A, revoked.ids.grantId));
      expect(ttl).toBeGreaterThan(REVOCATION_MEMORY_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(REVOCATION_MEMORY_MS);
      expect(await redis.exists(grantKey(A, kept.ids.grantId))).toBe(0);

      // the tenant's revocation list says so, and so does another instance's (its own mirror, rebuilt)
      expect(await A.revocations.isRevoked({ grantId: revoked.ids.grantId })).toBe(true);
      expect(await A.revocations.isRevoked({ grantId: kept.ids.grantId })).toBe(false);
      const otherStore = await connectedStore(requiredUrl('TEST_REDIS_URL'));
      const otherMirror = createRevocationMirror(otherStore);
      try {
        const elsewhere = tenantOf(db, otherMirror, A.id);
        expect(await elsewhere.revocations.isRevoked({ grantId: revoked.ids.grantId })).toBe(true);
        expect(await elsewhere.revocations.isRevoked({ grantId: kept.ids.grantId })).toBe(false);
      } finally {
        otherMirror.close();
        await otherStore.close();
      }
    });

    it('is answered by the Redis mirror once it is complete, without asking SQL', async () => {
      const { ids, payloads: p } = sample();
      // the mirror is rebuilt and marked complete by a first check
      expect(await A.revocations.isRevoked({ grantId: ids.grantId })).toBe(false);
      expect(await redis.get(`${PREFIX}rv:ready:${A.id}`)).toBe((await redis.get(`${PREFIX}rv:gen:${A.id}`)) ?? '0');
      const v = value();
      await A.adapter('RefreshToken').upsert(v, { ...p.RefreshToken, jti: v }, 600);
      await A.adapter('RefreshToken').revokeByGrantId(ids.grantId);
      // SQL forgets it: the answer comes from Redis
      await db.prisma.revokedGrant.deleteMany({ where: { tenantId: A.id, grantId: ids.grantId } });
      expect(await A.repos.revocations.isRevoked({ grantId: ids.grantId })).toBe(false);
      expect(await A.revocations.isRevoked({ grantId: ids.grantId })).toBe(true);
    });

    it('records a grant revoked even when none of its artifacts is left, and again without error', async () => {
      const grantId = value();
      await A.adapter('RefreshToken').revokeByGrantId(grantId);
      await A.adapter('AuthorizationCode').revokeByGrantId(grantId);
      expect(await db.prisma.revokedGrant.count({ where: { tenantId: A.id, grantId } })).toBe(1);
      expect(await A.revocations.isRevoked({ grantId })).toBe(true);
    });
  });

  describe('tenant isolation', () => {
    it("finds nothing of tenant A through tenant B's adapters", async () => {
      const { ids, payloads: p } = sample();
      const values = await writeEveryModel(A, p);
      for (const model of MODELS) {
        expect(await B.adapter(model).find(values[model]), model).toBeUndefined();
        expect(await A.adapter(model).find(values[model]), model).toMatchObject({ kind: model });
      }
      expect(await B.adapter('Session').findByUid(ids.sessionUid)).toBeUndefined();
      expect(await B.adapter('DeviceCode').findByUserCode(ids.userCode)).toBeUndefined();
    });

    it("lets tenant B neither consume, destroy nor revoke tenant A's artifacts", async () => {
      const { ids, payloads: p } = sample();
      const values = await writeEveryModel(A, p);
      await expect(B.adapter('AuthorizationCode').consume(values.AuthorizationCode)).rejects.toBeInstanceOf(errors.InvalidGrant);
      expect(await A.adapter('AuthorizationCode').find(values.AuthorizationCode)).not.toHaveProperty('consumed');
      for (const model of MODELS) await B.adapter(model).destroy(values[model]);
      await B.adapter('RefreshToken').revokeByGrantId(ids.grantId);
      for (const model of MODELS) expect(await A.adapter(model).find(values[model]), model).toMatchObject({ kind: model });
      // the revocation is B's alone
      expect(await B.revocations.isRevoked({ grantId: ids.grantId })).toBe(true);
      expect(await A.revocations.isRevoked({ grantId: ids.grantId })).toBe(false);
      expect(await redis.exists(`${PREFIX}rv:g:${A.id}:${ids.grantId}`)).toBe(0);
    });

    it('keeps the same value in two tenants as two artifacts', async () => {
      const a = sample().payloads;
      const b = sample().payloads;
      const v = value();
      await A.adapter('RefreshToken').upsert(v, { ...a.RefreshToken, jti: v }, 600);
      await B.adapter('RefreshToken').upsert(v, { ...b.RefreshToken, jti: v }, 600);
      await B.adapter('RefreshToken').consume(v);
      expect(await A.adapter('RefreshToken').find(v)).toEqual({ ...a.RefreshToken, jti: v });
      expect(await B.adapter('RefreshToken').find(v)).toEqual({ ...b.RefreshToken, jti: v, consumed: expect.any(Number) });
    });
  });
});
