/**
 * `npm run bench`: every benchmark of issue 9 in one run, one table at the end, JSON in
 * bench/results/. Needs Debian's `wrk`, a PostgreSQL (BENCH_DATABASE_URL, default the local one)
 * and Redis (BENCH_REDIS_URL). Never part of `npm test`: it measures, it does not assert.
 *   npm run bench [-- seconds]
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const seconds = process.argv[2] ?? '10';
const root = fileURLToPath(new URL('..', import.meta.url));
const results = new URL('./results/', import.meta.url);

async function latest(prefix: string): Promise<Record<string, unknown>> {
  const files = (await readdir(results)).filter((f) => f.startsWith(`${prefix}-`)).sort();
  return JSON.parse(await readFile(new URL(files[files.length - 1]!, results), 'utf8')) as Record<string, unknown>;
}

function run(script: string, args: string[], env: Record<string, string> = {}): void {
  process.stdout.write(`\n== ${script} ${args.join(' ')} ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`${script} failed (${res.status})`);
}

run('bench/client-credentials.ts', [seconds]);
const cc1 = await latest('client-credentials');
run('bench/client-credentials.ts', [seconds], { WEB_CONCURRENCY: '2' });
const cc2 = await latest('client-credentials');
run('bench/password.ts', [seconds]);
const pw = await latest('password');
run('bench/token-ops.ts', [seconds]);
const ops = (await latest('token-ops')) as { introspection: { perSec: number; p99Ms: number }; refresh: { perSec: number; p99: number } };
run('bench/verifier.ts', []);
const ver = await latest('verifier');
run('bench/tenants.ts', ['1000']);
const ten = await latest('tenants');

type CC = { tessera: { rps: number; p99: number }; bare: { rps: number }; ratio: number };
const c1 = cc1 as unknown as CC;
const c2 = cc2 as unknown as CC;
const rows = [
  { scenario: '1 client_credentials, 1 process vs bare', result: `${Math.round(c1.tessera.rps)} vs ${Math.round(c1.bare.rps)} /s`, ratio: c1.ratio, target: '>= 0.85', p99: `${c1.tessera.p99} ms (<= 25)` },
  { scenario: '2 client_credentials, 2 workers vs bare 1', result: `${Math.round(c2.tessera.rps)} vs ${Math.round(c2.bare.rps)} /s`, ratio: c2.ratio, target: '>= 1.5', p99: `${c2.tessera.p99} ms` },
  { scenario: '3 password sign-ins vs raw argon2', result: `${pw.signInsPerSec} vs ${pw.rawVerificationsPerSec} /s`, ratio: pw.ratio, target: '>= 0.85', p99: `${pw.p99Ms} ms` },
  { scenario: '4 refresh grants (rotation)', result: `${ops.refresh.perSec} /s`, ratio: '', target: '', p99: `${ops.refresh.p99} ms` },
  { scenario: '5 introspection of JWTs', result: `${Math.round(ops.introspection.perSec)} /s`, ratio: '', target: '', p99: `${ops.introspection.p99Ms} ms` },
  { scenario: '6 verifier vs raw jose', result: '', ratio: ver.ratio, target: '>= 0.95', p99: '' },
  { scenario: '7 1,000 tenants', result: `RSS +${ten.rssGrowthMb} MB, ${ten.evictions} evictions`, ratio: '', target: 'RSS growth <= 300 MB', p99: '' },
];
console.table(rows);
const date = new Date().toISOString();
await writeFile(new URL(`./results/summary-${date.replace(/[:.]/g, '-')}.json`, import.meta.url), `${JSON.stringify({ date, seconds: Number(seconds), rows }, null, 2)}\n`);
