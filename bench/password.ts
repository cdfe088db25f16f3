/**
 * Password-grant sign-ins/s (2xx answers only) next to raw argon2id verifications/s with the same
 * parameters and the same concurrency, measured in one run (issue 4, scenario 3: target ratio
 * >= 0.85).
 *   npx tsx bench/password.ts [seconds]
 * Tessera runs as users run it: `npm start`'s command in its own process, default settings
 * (LOG_LEVEL info, argon2id 19 MiB / t=2 / p=1, PASSWORD_HASH_CONCURRENCY = cores, at most 3),
 * a fresh PostgreSQL database (BENCH_DATABASE_URL's server, default the local one) and Redis
 * (BENCH_REDIS_URL); BENCH_EMBEDDED=1 uses the embedded database and in-process store instead.
 * ARGON2_* / PASSWORD_HASH_* in the environment are passed to both sides (to experiment).
 * wrk (Debian package `wrk`) drives it from another process over loopback. The raw side runs in
 * this process before and after the server phase, while the server is not running.
 */
import argon2 from 'argon2';
import { loadConfig } from '../src/config/index.ts';
import { basic, main, runWrk, saveResult } from './lib.ts';
import { assertRequestsLogged, startBenchServer } from './server.ts';

const seconds = Number(process.argv[2] ?? 10);
const embedded = process.env.BENCH_EMBEDDED === '1';
const scenario = `password sign-ins (${embedded ? 'embedded' : 'PostgreSQL + Redis'}, LOG_LEVEL ${process.env.BENCH_LOG_LEVEL ?? 'info'})`;
/** the only settings passed on: what a user experimenting with argon2 would set */
const argonEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ARGON2_') || k.startsWith('PASSWORD_HASH_'))) as Record<
  string,
  string
>;
// the parameters and concurrency the server will use, read with Tessera's own configuration code
const config = loadConfig(argonEnv);
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

await main(async () => {
  await rawRate(1000); // warm-up
  const raw = await rawRate(seconds * 1000);

  // 2. the same work through the token endpoint of a Tessera process
  const server = await startBenchServer(argonEnv, { embedded });
  const { grant, log } = await (async () => {
    try {
      await server.admin('POST', '/tenants', { slug: 'bench', name: 'Bench' });
      await server.admin('POST', '/tenants/bench/resources', { audience: 'https://api.bench.example', name: 'api', scopes: ['read'] });
      await server.admin('POST', '/tenants/bench/roles', { name: 'reader', permissions: [{ resource: 'https://api.bench.example', scope: 'read' }] });
      await server.admin('POST', '/tenants/bench/users', { username: 'staff', password: 'correct horse battery staple', roles: ['reader'] });
      const client = await server.admin('POST', '/tenants/bench/clients', {
        name: 'bench',
        grantTypes: ['password'],
        defaultResource: 'https://api.bench.example',
      });
      const url = `${server.url}/t/bench/token`;
      const body = 'grant_type=password&username=staff&password=correct%20horse%20battery%20staple';
      const auth = basic(client.clientId!, client.clientSecret!);
      const connections = Number(process.env.BENCH_CONNECTIONS ?? concurrency * 2);
      await runWrk(`${scenario}, warm-up`, url, { connections, seconds: 2, body, auth });
      // let the warm-up's last sign-ins finish (wrk leaves them in flight when it stops): with
      // theirs and the next run's together, 5 or more sign-ins from one address are in flight,
      // which the brute-force guard refuses (429)
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const grant = await runWrk(scenario, url, { connections, seconds, body, auth });
      const log = server.proc.log();
      assertRequestsLogged(scenario, log, grant.ok);
      return { grant, log };
    } finally {
      await server.stop();
    }
  })();
  // raw again after the server phase: the machine may have sped up or slowed down meanwhile
  const rawAfter = await rawRate(seconds * 1000);

  const rawMean = (raw + rawAfter) / 2;
  const result = {
    date: new Date().toISOString(),
    database: embedded ? 'pglite' : 'postgres',
    store: embedded ? 'memory' : 'redis',
    logLevel: log.level,
    argon2: { memoryCost, timeCost, parallelism, concurrency },
    connections: Number(process.env.BENCH_CONNECTIONS ?? concurrency * 2),
    rawVerificationsPerSec: Math.round(rawMean * 10) / 10,
    rawBefore: Math.round(raw * 10) / 10,
    rawAfter: Math.round(rawAfter * 10) / 10,
    signInsPerSec: Math.round(grant.perSec * 10) / 10,
    signIns: grant.ok,
    ratio: Math.round((grant.perSec / rawMean) * 1000) / 1000,
    target: 0.85,
    p50Ms: grant.p50Ms,
    p99Ms: grant.p99Ms,
    statuses: grant.statuses,
    serverLog: log,
  };
  console.table([
    { measure: 'raw argon2id verify/s (mean of before/after)', value: result.rawVerificationsPerSec },
    { measure: 'password grant sign-ins/s (2xx)', value: result.signInsPerSec },
    { measure: 'ratio (target >= 0.85)', value: result.ratio },
    { measure: 'p50 / p99 ms', value: `${grant.p50Ms} / ${grant.p99Ms}` },
    { measure: 'argon2id', value: `${memoryCost} KiB, t=${timeCost}, p=${parallelism}, ${concurrency} at once` },
    { measure: 'LOG_LEVEL', value: log.level },
  ]);
  await saveResult('password', result);
});
process.exit(0);
