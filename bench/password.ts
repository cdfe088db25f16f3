/**
 * Password-grant sign-ins/s next to raw argon2id verifications/s with the same parameters and
 * the same concurrency, measured in one run (issue 4: target ratio >= 0.85).
 *   npx tsx bench/password.ts [seconds]
 * Tessera runs in this process with production settings: a fresh PostgreSQL database
 * (BENCH_DATABASE_URL's server, default the local one) and Redis (BENCH_REDIS_URL), production
 * argon2 parameters; BENCH_EMBEDDED=1 uses the embedded database and in-memory store instead.
 * wrk (Debian package `wrk`) drives it from another process over loopback.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTessera } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { basic, runWrk } from './lib.ts';
import { benchRedisUrl, createBenchDatabase } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
const embedded = process.env.BENCH_EMBEDDED === '1';
const database = embedded ? undefined : await createBenchDatabase();
const config = loadConfig({
  PORT: '0',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  BOOTSTRAP_ADMIN_PASSWORD: 'bench-admin-password',
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ARGON2_') || k.startsWith('PASSWORD_HASH_'))),
  ...(database ? { DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), REDIS_URL: benchRedisUrl() } : {}),
});
const { memoryCost, timeCost, parallelism } = config.argon2;
const concurrency = config.passwordHashConcurrency;

// 1. raw argon2id verifications with the same parameters and concurrency
const hash = await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost, timeCost, parallelism });
async function rawRate(ms: number): Promise<number> {
  let done = 0;
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await argon2.verify(hash, 'correct horse battery staple');
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}
await rawRate(1000); // warm-up
const raw = await rawRate(seconds * 1000);

// 2. the same work through the token endpoint
const tessera = await startTessera(config);
const t = await tessera.services.tenants.create({ slug: 'bench', name: 'Bench' });
const s = tessera.services.forTenant(t.id);
await s.resources.create({ audience: 'https://api.bench.example', name: 'api', scopes: ['read'] });
await s.roles.create({ name: 'reader', permissions: [{ resource: 'https://api.bench.example', scope: 'read' }] });
await s.users.create({ username: 'staff', password: 'correct horse battery staple', roles: ['reader'] });
const client = await s.clients.create({ name: 'bench', grantTypes: ['password'], defaultResource: 'https://api.bench.example' });
const url = `${tessera.publicUrl}/t/bench/token`;
const body = 'grant_type=password&username=staff&password=correct%20horse%20battery%20staple';
const auth = basic(client.clientId, client.clientSecret!);
await runWrk(url, { connections: concurrency * 2, seconds: 2, body, auth }); // warm-up
const connections = Number(process.env.BENCH_CONNECTIONS ?? concurrency * 2);
const grant = await runWrk(url, { connections, seconds, body, auth });
await tessera.close();
await database?.drop();
await rm(dataDir, { recursive: true, force: true });
// raw again after the server phase: the machine may have sped up or slowed down meanwhile
const rawAfter = await rawRate(seconds * 1000);

const rawMean = (raw + rawAfter) / 2;
const result = {
  date: new Date().toISOString(),
  database: tessera.db.kind,
  store: tessera.store.kind,
  argon2: { memoryCost, timeCost, parallelism, concurrency },
  rawVerificationsPerSec: Math.round(rawMean * 10) / 10,
  rawBefore: Math.round(raw * 10) / 10,
  rawAfter: Math.round(rawAfter * 10) / 10,
  signInsPerSec: grant.requestsPerSec,
  ratio: Math.round((grant.requestsPerSec / rawMean) * 1000) / 1000,
  target: 0.85,
  p50Ms: grant.p50Ms,
  p99Ms: grant.p99Ms,
  non2xx: grant.non2xx,
};
console.table([
  { measure: 'raw argon2id verify/s (mean of before/after)', value: result.rawVerificationsPerSec },
  { measure: 'password grant sign-ins/s', value: result.signInsPerSec },
  { measure: 'ratio (target >= 0.85)', value: result.ratio },
  { measure: 'p50 / p99 ms', value: `${grant.p50Ms} / ${grant.p99Ms}` },
  { measure: 'non-2xx responses', value: grant.non2xx },
]);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL(`./results/password-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
