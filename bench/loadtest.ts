/**
 * Load test with integrity (issue 9): mixed traffic for LOADTEST_SECONDS (default 60) against two
 * Tessera processes sharing one PostgreSQL database and one Redis, then checks that nothing was
 * lost or double-spent:
 *   - no 5xx answer at all;
 *   - every revoked access token introspects inactive, at both instances;
 *   - no grant has more than one live (unconsumed) refresh token;
 *   - the audit trail holds exactly one event per operation performed (sign-ins, admin changes).
 *   npm run loadtest            (BENCH_DATABASE_URL / LOADTEST_SECONDS optional)
 * Exits 1 when an integrity check fails. Traffic goes to 127.0.0.1 only and stops by itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { privateRedis } from '../test/helpers/infra.ts';
import { freePort, startProcess, waitFor, type RunningProcess } from '../test/helpers/process.ts';

const SECONDS = Number(process.env.LOADTEST_SECONDS ?? 60);
const WORKERS = Number(process.env.LOADTEST_CONNECTIONS ?? 16);
const adminDbUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const API = 'https://epi.load.example/api';
const NODE = [process.execPath, '--import', 'tsx', 'src/main.ts'];
const ADMIN_PASSWORD = 'loadtest-admin-password';

type Creds = { clientId: string; clientSecret: string };
const basicAuth = (c: Creds) => `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;

// ---- infrastructure: a fresh database, a private Redis, two processes with one PUBLIC_URL
const dbName = `tessera_load_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminDbUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(adminDbUrl);
dbUrl.pathname = `/${dbName}`;
const redis = await privateRedis();
await redis.start();
const ports = [await freePort(), await freePort()];
const publicUrl = `http://localhost:${ports[0]}`;
const env = {
  DATABASE_URL: dbUrl.href,
  REDIS_URL: redis.url,
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  PUBLIC_URL: publicUrl,
  BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  LOG_LEVEL: 'warn',
  // cheap argon2 keeps sign-ins from dominating a two-core machine; the mix is what matters here
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
};
const procs: RunningProcess[] = ports.map((port) => startProcess({ ...env, PORT: String(port) }, NODE));
const db = new pg.Client({ connectionString: dbUrl.href });
let failed = false;
try {
  await Promise.all(ports.map((p, i) => waitFor(`http://localhost:${p}/t/system/jwks`, 60_000, procs[i])));
  await db.connect();
  const inst = (i: number) => `http://localhost:${ports[i % 2]}`;

  const form = async (url: string, body: Record<string, string>, auth?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, string | boolean> };
  };
  const adminToken = async () =>
    (await form(`${inst(0)}/t/system/token`, { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD })).body.access_token as string;
  let token = await adminToken();
  const adminCall = async (i: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${inst(i)}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, string> };
  };

  // ---- setup
  await adminCall(0, 'POST', '/tenants', { slug: 'load', name: 'Load' });
  await adminCall(0, 'POST', '/tenants/load/resources', { audience: API, name: 'api', scopes: ['read', 'run'], accessTokenTtl: 3600 });
  await adminCall(0, 'POST', '/tenants/load/roles', { name: 'staff', permissions: [{ resource: API, scope: 'read' }, { resource: API, scope: 'run' }] });
  const users = Array.from({ length: 20 }, (_, i) => ({ username: `staff${i}`, password: `staff-password-${i}` }));
  for (const u of users) await adminCall(0, 'POST', '/tenants/load/users', { ...u, roles: ['staff'] });
  const machine = (await adminCall(0, 'POST', '/tenants/load/clients', { name: 'machine', grantTypes: ['client_credentials'], roles: ['staff'], defaultResource: API })).body as unknown as Creds;
  const webapp = (await adminCall(0, 'POST', '/tenants/load/clients', { name: 'webapp', grantTypes: ['password', 'refresh_token'], defaultResource: API })).body as unknown as Creds;
  const tenantId = (await db.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'load'")).rows[0]!.id;
  const auditBefore = new Map((await db.query<{ type: string; n: string }>('SELECT type, count(*) n FROM audit_events WHERE tenant_id = $1 GROUP BY type', [tenantId])).rows.map((r) => [r.type, Number(r.n)]));

  // ---- traffic
  const counts: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const fiveXx: string[] = [];
  const accessTokens: string[] = [];
  const revoked: string[] = [];
  const sessions: string[] = []; // refresh tokens not checked out by a worker
  let signIns = 0;
  let adminCreates = 0;
  let seq = 0;
  const note = (op: string, status: number) => {
    counts[op] = (counts[op] ?? 0) + 1;
    statuses[`${op} ${status}`] = (statuses[`${op} ${status}`] ?? 0) + 1;
    if (status >= 500) fiveXx.push(`${op} ${status}`);
  };
  const ops: [number, (i: number) => Promise<void>][] = [
    [30, async (i) => {
      const r = await form(`${inst(i)}/t/load/token`, { grant_type: 'client_credentials' }, basicAuth(machine));
      note('client_credentials', r.status);
      if (r.status === 200 && accessTokens.length < 5000) accessTokens.push(r.body.access_token as string);
    }],
    [10, async (i) => {
      const u = users[i % users.length]!;
      const r = await form(`${inst(i)}/t/load/token`, { grant_type: 'password', username: u.username, password: u.password }, basicAuth(webapp));
      note('sign_in', r.status);
      if (r.status === 200) {
        signIns++;
        sessions.push(r.body.refresh_token as string);
      }
    }],
    [20, async (i) => {
      const rt = sessions.shift(); // exclusive: a session is refreshed by one worker at a time
      if (!rt) return;
      const r = await form(`${inst(i)}/t/load/token`, { grant_type: 'refresh_token', refresh_token: rt }, basicAuth(webapp));
      note('refresh', r.status);
      if (r.status === 200) sessions.push(r.body.refresh_token as string);
    }],
    [25, async (i) => {
      const at = accessTokens[Math.floor(Math.random() * accessTokens.length)];
      if (!at) return;
      const r = await form(`${inst(i)}/t/load/token/introspection`, { token: at }, basicAuth(machine));
      note('introspection', r.status);
    }],
    [5, async (i) => {
      const at = accessTokens.pop();
      if (!at) return;
      const r = await form(`${inst(i)}/t/load/token/revocation`, { token: at }, basicAuth(machine));
      note('revocation', r.status);
      if (r.status === 200) revoked.push(at);
    }],
    [5, async (i) => {
      const r = await adminCall(i, 'POST', '/tenants/load/users', { username: `new-${seq++}-${i}`, password: 'new-user-password', roles: ['staff'] });
      if (r.status === 401) token = await adminToken(); // expired admin token: renew and go on
      note('admin_create_user', r.status);
      if (r.status === 201) adminCreates++;
    }],
  ];
  const total = ops.reduce((a, [w]) => a + w, 0);
  const pick = () => {
    let x = Math.random() * total;
    for (const [w, op] of ops) if ((x -= w) < 0) return op;
    return ops[0]![1];
  };
  const until = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      let n = w;
      while (Date.now() < until) {
        try {
          await pick()(n++);
        } catch (err) {
          fiveXx.push(`transport ${(err as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;

  // ---- integrity
  const problems: string[] = [];
  if (fiveXx.length) problems.push(`${fiveXx.length} 5xx/transport failures: ${[...new Set(fiveXx)].slice(0, 5).join(', ')}`);
  for (const at of revoked) {
    for (const i of [0, 1]) {
      const r = await form(`${inst(i)}/t/load/token/introspection`, { token: at }, basicAuth(machine));
      if (r.body.active !== false) problems.push(`revoked token active at instance ${i}`);
    }
  }
  const doubled = await db.query<{ grant_id: string; live: string }>(
    "SELECT grant_id, count(*) live FROM oidc_artifacts WHERE tenant_id = $1 AND model = 'RefreshToken' AND consumed_at IS NULL GROUP BY grant_id HAVING count(*) > 1",
    [tenantId],
  );
  if (doubled.rowCount) problems.push(`${doubled.rowCount} grants with more than one live refresh token`);
  const auditAfter = new Map((await db.query<{ type: string; n: string }>('SELECT type, count(*) n FROM audit_events WHERE tenant_id = $1 GROUP BY type', [tenantId])).rows.map((r) => [r.type, Number(r.n)]));
  const delta = (t: string) => (auditAfter.get(t) ?? 0) - (auditBefore.get(t) ?? 0);
  if (delta('signin.success') !== signIns) problems.push(`audit signin.success ${delta('signin.success')} != sign-ins ${signIns}`);
  if (delta('user.created') !== adminCreates) problems.push(`audit user.created ${delta('user.created')} != admin creates ${adminCreates}`);

  const result = {
    date: new Date().toISOString(),
    seconds: Math.round(elapsed),
    connections: WORKERS,
    operations: counts,
    perSecond: Math.round(Object.values(counts).reduce((a, b) => a + b, 0) / elapsed),
    statuses,
    revokedChecked: revoked.length,
    signIns,
    adminCreates,
    problems,
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`./results/loadtest-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  failed = problems.length > 0;
  console.log(failed ? `INTEGRITY FAILED: ${problems.length} problem(s)` : 'integrity: ok (no 5xx, revocations hold, one live refresh token per grant, audit complete)');
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await db.end().catch(() => {});
  await redis.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
process.exit(failed ? 1 : 0);
