/**
 * Several Tessera processes behave as one (issue 5): two real processes on one PostgreSQL and one
 * Redis. Tokens, revocations, refresh-token reuse and client deletion cross instances; a restart
 * with Redis flushed loses nothing; Redis stopped and PostgreSQL cut give the documented answers,
 * then recover without a restart.
 */
import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { privateRedis, tcpProxy, type PrivateRedis, type TcpProxy } from '../helpers/infra.ts';
import { PROCESS_START_MS, freePort, startProcess, waitFor, withStart, type RunningProcess } from '../helpers/process.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, createPostgresDatabase, requiredUrl, type TestDatabase } from '../helpers/tessera.ts';

const API = 'https://epi.multi.example/api';
const NODE = [process.execPath, '--import', 'tsx', 'src/main.ts'];

describe('two instances on one PostgreSQL and one Redis', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let proxy: TcpProxy;
  let env: Record<string, string>;
  const ports: number[] = [];
  const procs: RunningProcess[] = [];
  let publicUrl: string;
  let machine: { clientId: string; clientSecret: string };
  let webapp: { clientId: string; clientSecret: string };

  const base = (i: number) => `http://localhost:${ports[i]}/t/multi`;
  const token = (i: number, form: Record<string, string>, auth?: { clientId: string; clientSecret: string }) => tokenRequest(`${base(i)}/token`, form, auth);
  const introspect = async (i: number, value: string) => {
    const res = await fetch(`${base(i)}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${machine.clientId}:${machine.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: value }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const revoke = (i: number, value: string, auth: { clientId: string; clientSecret: string }) =>
    fetch(`${base(i)}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: value }),
    });
  const signIn = async (i: number) => (await token(i, { grant_type: 'password', username: 'nina', password: 'nina-password-1' }, webapp)).body;
  const start = (i: number) => {
    procs[i] = startProcess({ ...env, PORT: String(ports[i]) }, NODE);
    return waitFor(`http://localhost:${ports[i]}/t/system/jwks`, PROCESS_START_MS, procs[i]);
  };
  const stopAll = () => Promise.all(procs.map((p) => p.stop()));

  beforeAll(async () => {
    db = await createPostgresDatabase();
    redis = await privateRedis();
    await redis.start();
    proxy = await tcpProxy(Number(new URL(requiredUrl('TEST_DATABASE_URL')).port || 5432));
    ports.push(await freePort(), await freePort());
    publicUrl = `http://localhost:${ports[0]}`;
    const dbUrl = new URL(db.env.DATABASE_URL!);
    dbUrl.port = String(proxy.port);
    env = {
      ...db.env,
      DATABASE_URL: dbUrl.href,
      REDIS_URL: redis.url,
      PUBLIC_URL: publicUrl,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
    };
  });
  afterAll(async () => {
    await stopAll();
    await redis?.stop();
    await proxy?.close();
    await db?.drop();
  });

  it(
    'bootstraps exactly once when both start at once on an empty database',
    async () => {
      await Promise.all([start(0), start(1)]);
      const c = new pg.Client({ connectionString: db.env.DATABASE_URL });
      await c.connect();
      const { rows } = await c.query<{ tenants: string; users: string }>(
        "SELECT (SELECT count(*) FROM tenants WHERE slug = 'system') AS tenants, (SELECT count(*) FROM users) AS users",
      );
      await c.end();
      expect(rows[0]).toEqual({ tenants: '1', users: '1' });

      // set up a department through instance 0's admin API
      const admin = adminClient(`http://localhost:${ports[0]}`, await adminToken(publicUrl, 'system', 'admin', ADMIN_PASSWORD));
      expect((await admin('POST', '/tenants', { slug: 'multi', name: 'Multi' })).status).toBe(201);
      await admin('POST', '/tenants/multi/resources', { audience: API, name: 'api', scopes: ['read'] });
      await admin('POST', '/tenants/multi/roles', { name: 'reader', permissions: [{ resource: API, scope: 'read' }] });
      await admin('POST', '/tenants/multi/users', { username: 'nina', password: 'nina-password-1', roles: ['reader'] });
      machine = (await admin('POST', '/tenants/multi/clients', { name: 'm', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: API }))
        .body as typeof machine;
      webapp = (await admin('POST', '/tenants/multi/clients', { name: 'w', grantTypes: ['password', 'refresh_token'], defaultResource: API }))
        .body as typeof webapp;
    },
    withStart(60_000),
  );

  it('introspects at one instance a token issued by the other', async () => {
    const at = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
    expect((await introspect(1, at)).body).toMatchObject({ active: true, client_id: machine.clientId });
    const rt = (await signIn(1)).refresh_token as string;
    expect((await introspect(0, rt)).body).toMatchObject({ active: true, token_type: 'refresh_token' });
  });

  it('sees a revocation made through the other instance on the next request', async () => {
    const at = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
    expect((await introspect(1, at)).body.active).toBe(true);
    expect((await revoke(0, at, machine)).status).toBe(200);
    expect((await introspect(1, at)).body).toEqual({ active: false });
  });

  it('detects refresh-token reuse across instances', async () => {
    const first = await signIn(0);
    const r1 = await token(1, { grant_type: 'refresh_token', refresh_token: first.refresh_token as string }, webapp);
    expect(r1.status).toBe(200);
    // past REFRESH_TOKEN_REUSE_INTERVAL (2 s): a replay, not a request sent in parallel
    await new Promise((r) => setTimeout(r, 2100));
    const reuse = await token(0, { grant_type: 'refresh_token', refresh_token: first.refresh_token as string }, webapp);
    expect(reuse.body.error).toBe('invalid_grant');
    const descendant = await token(1, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token as string }, webapp);
    expect(descendant.body.error).toBe('invalid_grant');
    expect((await introspect(1, r1.body.access_token as string)).body).toEqual({ active: false });
  });

  it('refuses at one instance a client deleted through the other', async () => {
    const admin = adminClient(`http://localhost:${ports[0]}`, await adminToken(publicUrl, 'system', 'admin', ADMIN_PASSWORD));
    const doomed = (
      await admin('POST', '/tenants/multi/clients', { name: 'doomed', grantTypes: ['client_credentials'], roles: ['reader'], defaultResource: API })
    ).body as typeof machine;
    expect((await token(1, { grant_type: 'client_credentials' }, doomed)).status).toBe(200); // instance 1 has it cached now
    expect((await admin('DELETE', `/tenants/multi/clients/${doomed.clientId}`)).status).toBe(204);
    // pub/sub carries the change; allow for its delivery (milliseconds)
    await expect.poll(async () => (await token(1, { grant_type: 'client_credentials' }, doomed)).status, { timeout: 2000, interval: 50 }).toBe(401);
  });

  it('applies a change made with the CLI on every running instance at once', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { ROOT } = await import('../helpers/process.ts');
    const { decodeProtectedHeader } = await import('jose');
    const kidOf = async (i: number) => decodeProtectedHeader((await token(i, { grant_type: 'client_credentials' }, machine)).body.access_token as string).kid;
    const before = [await kidOf(0), await kidOf(1)];
    // asynchronously: the database proxy lives in this process and must keep serving meanwhile
    const res = await promisify(execFile)(process.execPath, ['bin/tessera.mjs', 'keys', 'rotate', 'multi', '--json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { kid } = JSON.parse(res.stdout) as { kid: string };
    expect(before).not.toContain(kid);
    for (const i of [0, 1]) await expect.poll(() => kidOf(i), { timeout: 2000, interval: 50 }).toBe(kid);
  });

  it(
    'keeps refresh tokens, revocations, clients and keys across a restart with Redis flushed',
    async () => {
      const session = await signIn(0);
      const revoked = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
      await revoke(0, revoked, machine);
      const kids = ((await (await fetch(`${base(0)}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      await stopAll();
      const r = new Redis(redis.url);
      await r.flushall();
      r.disconnect();
      await Promise.all([start(0), start(1)]);
      const refreshed = await token(1, { grant_type: 'refresh_token', refresh_token: session.refresh_token as string }, webapp);
      expect(refreshed.status).toBe(200);
      expect(decodeJwt(refreshed.body.access_token as string).sub).toBeTruthy();
      expect((await introspect(0, revoked)).body).toEqual({ active: false });
      expect((await token(1, { grant_type: 'client_credentials' }, machine)).status).toBe(200);
      const after = ((await (await fetch(`${base(1)}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      expect(after.sort()).toEqual(kids.sort());
    },
    withStart(60_000),
  );

  it('with Redis stopped: revocations still hold (SQL), sign-ins answer 503, then recover', async () => {
    const revoked = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
    await revoke(0, revoked, machine);
    const live = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
    await redis.stop();
    expect((await introspect(1, revoked)).body).toEqual({ active: false });
    expect((await introspect(1, live)).body.active).toBe(true);
    const signin = await token(0, { grant_type: 'password', username: 'nina', password: 'nina-password-1' }, webapp);
    expect(signin.status).toBe(503);
    expect(signin.headers.get('retry-after')).toBeTruthy();
    expect((await token(1, { grant_type: 'client_credentials' }, machine)).status).toBe(200);
    await redis.start();
    await expect
      .poll(async () => (await token(0, { grant_type: 'password', username: 'nina', password: 'nina-password-1' }, webapp)).status, {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(200);
  });

  it('with PostgreSQL unreachable: 503s without details, discovery and JWKS answer, then recover', async () => {
    const at = (await token(0, { grant_type: 'client_credentials' }, machine)).body.access_token as string;
    const rt = (await signIn(0)).refresh_token as string;
    const admin = adminClient(`http://localhost:${ports[0]}`, await adminToken(publicUrl, 'system', 'admin', ADMIN_PASSWORD));
    await proxy.cut();
    // the monitor notices within about a second
    await expect.poll(async () => (await token(0, { grant_type: 'client_credentials' }, machine)).status, { timeout: 5000, interval: 200 }).toBe(503);
    for (const i of [0, 1]) {
      await expect.poll(async () => (await introspect(i, at)).status, { timeout: 5000, interval: 200 }).toBe(503);
      const intro = await introspect(i, at);
      expect(intro.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(intro.body.active).toBeUndefined();
      const refresh = await token(i, { grant_type: 'refresh_token', refresh_token: rt }, webapp);
      expect(refresh.status).toBe(503);
      expect(refresh.headers.get('retry-after')).toBeTruthy();
      expect(JSON.stringify(refresh.body)).not.toMatch(/prisma|SELECT|ECONN|at .*\.ts/i);
      expect((await revoke(i, at, machine)).status).toBe(503);
      expect((await fetch(`${base(i)}/.well-known/openid-configuration`)).status).toBe(200);
      expect((await fetch(`${base(i)}/jwks`)).status).toBe(200);
    }
    const adm = await admin('GET', '/tenants/multi');
    expect(adm.status).toBe(503);
    expect(adm.headers.get('retry-after')).toBeTruthy();
    await proxy.restore();
    await expect.poll(async () => (await token(0, { grant_type: 'client_credentials' }, machine)).status, { timeout: 15_000, interval: 250 }).toBe(200);
    await expect.poll(async () => (await introspect(1, at)).body.active, { timeout: 15_000, interval: 250 }).toBe(true);
    await expect
      .poll(async () => (await token(1, { grant_type: 'refresh_token', refresh_token: rt }, webapp)).status, { timeout: 15_000, interval: 250 })
      .toBe(200);
    expect((await admin('GET', '/tenants/multi')).status).toBe(200);
  });
});
