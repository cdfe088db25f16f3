/**
 * Load test with integrity (issue 9): mixed traffic for LOADTEST_SECONDS (default 60) against two
 * Tessera processes sharing one PostgreSQL database and one Redis, each run as users run it
 * (`npm start`'s command, default settings: LOG_LEVEL info, argon2id 19 MiB / t=2 / p=1), then
 * checks that nothing was lost or double-spent:
 *   - no 5xx answer and no network error at all;
 *   - concurrent refreshes of one refresh token (part of the mix, sent to both instances at once)
 *     have exactly one winner;
 *   - no grant has more than one live refresh token in the database (bench/integrity.ts);
 *   - every revoked access token introspects inactive, at both instances;
 *   - the audit trail holds exactly one event per operation performed (sign-ins, admin changes);
 *   - every kind of operation succeeded at least once.
 * Every request is counted by operation and outcome (ok, invalid_grant, rate_limited, 5xx,
 * network_error, other 4xx by status), printed and saved with the result.
 *   npm run loadtest [-- seconds]     (BENCH_DATABASE_URL, LOADTEST_SECONDS, LOADTEST_CONNECTIONS,
 *                                      ARGON2_* / BENCH_LOG_LEVEL to experiment)
 * Exits 1 when an integrity check fails. Traffic goes to 127.0.0.1 only and stops by itself.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { privateRedis } from '../test/helpers/infra.ts';
import { freePort, waitFor } from '../test/helpers/process.ts';
import { refreshTokenProblems } from './integrity.ts';
import { saveResult } from './lib.ts';
import { logLevelEnv, startServerProcess, tesseraCommand, type ServerProcess } from './server.ts';

const SECONDS = Number(process.argv[2] ?? process.env.LOADTEST_SECONDS ?? 60);
const WORKERS = Number(process.env.LOADTEST_CONNECTIONS ?? 16);
/** concurrent refreshes of one refresh token in a race */
const RACERS = 3;
/** both clients have a plan, far above what a run issues: every token request counts in Redis */
const RATE_LIMIT_PER_HOUR = Number(process.env.LOADTEST_RATE_LIMIT_PER_HOUR ?? 1_000_000);
const adminDbUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const API = 'https://epi.load.example/api';
const ADMIN_PASSWORD = 'loadtest-admin-password';
/** passed on when set, to experiment; by default the servers use Tessera's argon2 parameters */
const argonEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ARGON2_') || k.startsWith('PASSWORD_HASH_'))) as Record<
  string,
  string
>;

type Creds = { clientId: string; clientSecret: string };
type Json = Record<string, unknown>;
const basicAuth = (c: Creds) => `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;

/** the outcome of one answer: ok, invalid_grant, rate_limited, 5xx, or `<status> <error>` */
function outcomeOf(status: number, body: Json): string {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return '5xx';
  const error = typeof body.error === 'string' ? body.error : '';
  return error === 'invalid_grant' ? 'invalid_grant' : `${status}${error ? ` ${error}` : ''}`;
}

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
  ...logLevelEnv(),
  ...argonEnv,
};
const procs: ServerProcess[] = ports.map((port) => startServerProcess({ ...env, PORT: String(port) }, tesseraCommand()));
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
    let json: Json = {};
    try {
      json = text ? (JSON.parse(text) as Json) : {};
    } catch {
      json = { unparsed: text.slice(0, 200) };
    }
    return { status: res.status, body: json };
  };
  const adminToken = async () =>
    (await form(`${inst(0)}/t/system/token`, { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD })).body
      .access_token as string;
  let token = await adminToken();
  const adminCall = async (i: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${inst(i)}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
  };
  const setup = async (method: string, path: string, body: unknown) => {
    const r = await adminCall(0, method, path, body);
    if (r.status >= 300) throw new Error(`setup: ${method} /admin${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // ---- setup
  await setup('POST', '/tenants', { slug: 'load', name: 'Load' });
  await setup('POST', '/tenants/load/resources', { audience: API, name: 'api', scopes: ['read', 'run'], accessTokenTtl: 3600 });
  await setup('POST', '/tenants/load/roles', {
    name: 'staff',
    permissions: [
      { resource: API, scope: 'read' },
      { resource: API, scope: 'run' },
    ],
  });
  const users = Array.from({ length: 20 }, (_, i) => ({ username: `staff${i}`, password: `staff-password-${i}` }));
  for (const u of users) await setup('POST', '/tenants/load/users', { ...u, roles: ['staff'] });
  const machine = (await setup('POST', '/tenants/load/clients', {
    name: 'machine',
    grantTypes: ['client_credentials'],
    roles: ['staff'],
    defaultResource: API,
    rateLimitPerHour: RATE_LIMIT_PER_HOUR,
  })) as unknown as Creds;
  const webapp = (await setup('POST', '/tenants/load/clients', {
    name: 'webapp',
    grantTypes: ['password', 'refresh_token'],
    defaultResource: API,
    rateLimitPerHour: RATE_LIMIT_PER_HOUR,
  })) as unknown as Creds;
  const tenantId = (await db.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'load'")).rows[0]!.id;
  const auditBefore = new Map(
    (await db.query<{ type: string; n: string }>('SELECT type, count(*) n FROM audit_events WHERE tenant_id = $1 GROUP BY type', [tenantId])).rows.map((r) => [
      r.type,
      Number(r.n),
    ]),
  );

  // ---- traffic
  /** operation → outcome → count */
  const outcomes: Record<string, Record<string, number>> = {};
  /** operation → HTTP status → count */
  const statuses: Record<string, Record<string, number>> = {};
  /** a few answers of each outcome other than ok, to read what they said */
  const samples: Record<string, string> = {};
  const failures: string[] = []; // 5xx and network errors
  const accessTokens: string[] = [];
  const revoked: string[] = [];
  const sessions: string[] = []; // refresh tokens not checked out by a worker
  const races = { total: 0, oneWinner: 0, noWinner: 0, severalWinners: 0 };
  let signIns = 0;
  let adminCreates = 0;
  let seq = 0;
  const count = (table: Record<string, Record<string, number>>, op: string, key: string) => {
    const row = (table[op] ??= {});
    row[key] = (row[key] ?? 0) + 1;
  };
  const note = (op: string, status: number, body: Json) => {
    const outcome = outcomeOf(status, body);
    count(outcomes, op, outcome);
    count(statuses, op, String(status));
    if (outcome !== 'ok' && !samples[`${op} ${outcome}`]) samples[`${op} ${outcome}`] = JSON.stringify(body).slice(0, 300);
    if (status >= 500) failures.push(`${op} ${status}`);
    return outcome;
  };
  /** one request of operation `op`: counted by outcome; a network error counts as one too */
  const call = async (op: string, send: () => Promise<{ status: number; body: Json }>) => {
    try {
      const r = await send();
      note(op, r.status, r.body);
      return r;
    } catch (err) {
      count(outcomes, op, 'network_error');
      failures.push(`${op} network error: ${(err as Error).message}`);
      return undefined;
    }
  };
  const refresh = (i: number, rt: string) => form(`${inst(i)}/t/load/token`, { grant_type: 'refresh_token', refresh_token: rt }, basicAuth(webapp));
  const ops: [number, (i: number) => Promise<void>][] = [
    [
      30,
      async (i) => {
        const r = await call('client_credentials', () => form(`${inst(i)}/t/load/token`, { grant_type: 'client_credentials' }, basicAuth(machine)));
        if (r?.status === 200 && accessTokens.length < 5000) accessTokens.push(r.body.access_token as string);
      },
    ],
    [
      10,
      async (i) => {
        const u = users[i % users.length]!;
        const r = await call('sign_in', () =>
          form(`${inst(i)}/t/load/token`, { grant_type: 'password', username: u.username, password: u.password }, basicAuth(webapp)),
        );
        if (r?.status === 200) {
          signIns++;
          sessions.push(r.body.refresh_token as string);
        }
      },
    ],
    [
      15,
      async (i) => {
        const rt = sessions.shift(); // exclusive: this session is refreshed by one worker
        if (!rt) return;
        const r = await call('refresh', () => refresh(i, rt));
        if (r?.status === 200) sessions.push(r.body.refresh_token as string);
      },
    ],
    [
      5,
      async (i) => {
        // a client that sends the same refresh token several times at once (retries, two tabs),
        // to both instances: exactly one may win, the others get invalid_grant
        const rt = sessions.shift();
        if (!rt) return;
        const answers = await Promise.all(Array.from({ length: RACERS }, (_, k) => call('refresh_race', () => refresh(i + k, rt))));
        const winners = answers.filter((r) => r?.status === 200);
        races.total++;
        if (winners.length === 1) races.oneWinner++;
        else if (winners.length === 0) races.noWinner++;
        else races.severalWinners++;
        // every winner's token goes on being used, as a client would
        for (const w of winners) sessions.push(w!.body.refresh_token as string);
      },
    ],
    [
      25,
      async (i) => {
        const at = accessTokens[Math.floor(Math.random() * accessTokens.length)];
        if (!at) return;
        await call('introspection', () => form(`${inst(i)}/t/load/token/introspection`, { token: at }, basicAuth(machine)));
      },
    ],
    [
      5,
      async (i) => {
        const at = accessTokens.pop();
        if (!at) return;
        const r = await call('revocation', () => form(`${inst(i)}/t/load/token/revocation`, { token: at }, basicAuth(machine)));
        if (r?.status === 200) revoked.push(at);
      },
    ],
    [
      5,
      async (i) => {
        const r = await call('admin_create_user', () =>
          adminCall(i, 'POST', '/tenants/load/users', { username: `new-${seq++}-${i}`, password: 'new-user-password', roles: ['staff'] }),
        );
        if (r?.status === 401) token = await adminToken(); // expired admin token: renew and go on
        if (r?.status === 201) adminCreates++;
      },
    ],
  ];
  const total = ops.reduce((a, [w]) => a + w, 0);
  const pick = () => {
    let x = Math.random() * total;
    for (const [w, op] of ops) if ((x -= w) < 0) return op;
    return ops[0]![1];
  };
  console.log(
    `load test: ${SECONDS} s, ${WORKERS} connections, 2 instances, LOG_LEVEL ${procs[0]!.log().level}, argon2 ${Object.keys(argonEnv).length ? JSON.stringify(argonEnv) : 'defaults'}`,
  );
  const until = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      let n = w;
      while (Date.now() < until) await pick()(n++);
    }),
  );
  const elapsed = (Date.now() - started) / 1000;

  // ---- integrity
  const problems: string[] = [];
  if (failures.length) problems.push(`${failures.length} 5xx answers or network errors: ${[...new Set(failures)].slice(0, 5).join(', ')}`);
  if (races.severalWinners) problems.push(`${races.severalWinners} of ${races.total} concurrent refreshes of one token had more than one winner`);
  problems.push(...(await refreshTokenProblems(db, tenantId)));
  for (const at of revoked) {
    for (const i of [0, 1]) {
      const r = await form(`${inst(i)}/t/load/token/introspection`, { token: at }, basicAuth(machine));
      if (r.body.active !== false) problems.push(`revoked token active at instance ${i}`);
    }
  }
  const auditAfter = new Map(
    (await db.query<{ type: string; n: string }>('SELECT type, count(*) n FROM audit_events WHERE tenant_id = $1 GROUP BY type', [tenantId])).rows.map((r) => [
      r.type,
      Number(r.n),
    ]),
  );
  const delta = (t: string) => (auditAfter.get(t) ?? 0) - (auditBefore.get(t) ?? 0);
  if (delta('signin.success') !== signIns) problems.push(`audit signin.success ${delta('signin.success')} != sign-ins ${signIns}`);
  if (delta('user.created') !== adminCreates) problems.push(`audit user.created ${delta('user.created')} != admin creates ${adminCreates}`);
  for (const [op] of Object.entries(outcomes).filter(([, o]) => !o.ok)) problems.push(`no ${op} succeeded`);
  for (const op of ['client_credentials', 'sign_in', 'refresh', 'refresh_race', 'introspection', 'revocation', 'admin_create_user']) {
    if (!outcomes[op]) problems.push(`no ${op} was sent (too short a run?)`);
  }

  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const ok = Object.values(outcomes).reduce((a, o) => a + (o.ok ?? 0), 0);
  const requests = Object.values(outcomes).reduce((a, o) => a + sum(o), 0);
  const serverLogs = procs.map((p) => p.log());
  const result = {
    date: new Date().toISOString(),
    seconds: Math.round(elapsed),
    connections: WORKERS,
    instances: 2,
    logLevel: serverLogs[0]!.level,
    argon2: Object.keys(argonEnv).length ? argonEnv : 'defaults (19456 KiB, t=2, p=1)',
    rateLimitPerHour: RATE_LIMIT_PER_HOUR,
    /** 2xx answers per second, all operations together */
    okPerSecond: Math.round(ok / elapsed),
    requests,
    ok,
    outcomes,
    statuses,
    samples,
    races,
    revokedChecked: revoked.length,
    signIns,
    adminCreates,
    serverLogs,
    problems,
  };
  console.table(Object.fromEntries(Object.entries(outcomes).map(([op, o]) => [op, { ...o, '2xx/s': Math.round(((o.ok ?? 0) / elapsed) * 10) / 10 }])));
  console.log(`${ok} of ${requests} requests answered 2xx in ${Math.round(elapsed)} s: ${result.okPerSecond} 2xx/s; races ${JSON.stringify(races)}`);
  if (Object.keys(samples).length) console.log('answers other than ok, one sample each:', samples);
  await saveResult('loadtest', result);
  failed = problems.length > 0;
  if (failed) process.stderr.write(`\nLOAD TEST INTEGRITY FAILED: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  else
    console.log(
      'integrity: ok (no 5xx or network error, one winner per refresh race, one live refresh token per grant, revocations hold at both instances, audit complete)',
    );
} catch (err) {
  failed = true;
  process.stderr.write(`\nLOAD TEST FAILED: ${(err as Error).message}\n${procs.map((p) => p.output().slice(-2000)).join('\n')}\n`);
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await db.end().catch(() => {});
  await redis.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
process.exit(failed ? 1 : 0);
