/**
 * `npm run bench`: every benchmark of issue 9 in one run, one table at the end, JSON in
 * bench/results/ (BENCH_RESULTS_DIR to write elsewhere). Needs Debian's `wrk`, a PostgreSQL
 * (BENCH_DATABASE_URL, default the local one) and Redis (BENCH_REDIS_URL). Never part of
 * `npm test`: it measures, it does not assert a number — but a scenario that got any non-2xx
 * answer fails, and so does the whole run.
 *   npm run bench [-- seconds]    BENCH_WARN_ROW=0 skips the LOG_LEVEL=warn row; BENCH_TENANTS (1000) for scenario 7
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, resultsDir, saveResult } from './lib.ts';

const seconds = process.argv[2] ?? '10';
const files: Record<string, string> = {};

/** runs one benchmark script and returns the JSON it wrote */
function run(key: string, script: string, prefix: string, args: string[], env: Record<string, string> = {}): Record<string, unknown> {
  process.stdout.write(
    `\n== ${script} ${args.join(' ')} ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n`,
  );
  const list = () =>
    new Set(
      readdirSync(resultsDir(), { withFileTypes: true })
        .filter((f) => f.isFile() && f.name.startsWith(`${prefix}-`))
        .map((f) => f.name),
    );
  const before = list();
  const res = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  if (res.status !== 0) {
    process.stderr.write(
      `\nnpm run bench: ${script} ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} failed (exit ${res.status}); no summary written\n`,
    );
    process.exit(1);
  }
  const added = [...list()].filter((f) => !before.has(f)).sort();
  const file = added[added.length - 1];
  if (!file) throw new Error(`${script} wrote no ${prefix}-*.json`);
  files[key] = file;
  return JSON.parse(readFileSync(join(resultsDir(), file), 'utf8')) as Record<string, unknown>;
}

mkdirSync(resultsDir(), { recursive: true });
type Side = { rps: number; p99: number };
type CC = { tessera: Side; tesseraPlan: Side & { rateLimitPerHour: number }; bare: Side; ratio: number; ratioPlan: number };
const c1 = run('1', 'bench/client-credentials.ts', 'client-credentials', [seconds]) as unknown as CC;
const c2 = run('2', 'bench/client-credentials.ts', 'client-credentials', [seconds], { WEB_CONCURRENCY: '2' }) as unknown as CC;
const warnRow = process.env.BENCH_WARN_ROW !== '0';
const cw = warnRow ? (run('1-warn', 'bench/client-credentials.ts', 'client-credentials', [seconds], { BENCH_LOG_LEVEL: 'warn' }) as unknown as CC) : undefined;
const pw = run('3', 'bench/password.ts', 'password', [seconds]);
const ops = run('4-5', 'bench/token-ops.ts', 'token-ops', [seconds]) as {
  introspection: { perSec: number; p99Ms: number };
  refresh: { perSec: number; p99: number };
};
const ver = run('6', 'bench/verifier.ts', 'verifier', []);
const ten = run('7', 'bench/tenants.ts', 'tenants', [process.env.BENCH_TENANTS ?? '1000']);

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const rows = [
  {
    scenario: '1 client_credentials, 1 process vs bare',
    result: `${n(c1.tessera.rps)} vs ${n(c1.bare.rps)} /s`,
    ratio: c1.ratio,
    target: '>= 0.85',
    p99: `${c1.tessera.p99} ms (<= 25)`,
  },
  {
    scenario: `1 the same, client with a plan (rateLimitPerHour ${n(c1.tesseraPlan.rateLimitPerHour)})`,
    result: `${n(c1.tesseraPlan.rps)} vs ${n(c1.bare.rps)} /s`,
    ratio: c1.ratioPlan,
    target: '',
    p99: `${c1.tesseraPlan.p99} ms`,
  },
  {
    scenario: '2 client_credentials, 2 workers vs bare 1',
    result: `${n(c2.tessera.rps)} vs ${n(c2.bare.rps)} /s`,
    ratio: c2.ratio,
    target: '>= 1.5',
    p99: `${c2.tessera.p99} ms`,
  },
  {
    scenario: '2 the same, client with a plan',
    result: `${n(c2.tesseraPlan.rps)} vs ${n(c2.bare.rps)} /s`,
    ratio: c2.ratioPlan,
    target: '',
    p99: `${c2.tesseraPlan.p99} ms`,
  },
  ...(cw
    ? [
        {
          scenario: '1 with LOG_LEVEL=warn (no request log lines; not the default)',
          result: `${n(cw.tessera.rps)} vs ${n(cw.bare.rps)} /s`,
          ratio: cw.ratio,
          target: '',
          p99: `${cw.tessera.p99} ms`,
        },
      ]
    : []),
  {
    scenario: '3 password sign-ins vs raw argon2',
    result: `${pw.signInsPerSec} vs ${pw.rawVerificationsPerSec} /s`,
    ratio: pw.ratio,
    target: '>= 0.85',
    p99: `${pw.p99Ms} ms`,
  },
  { scenario: '4 refresh grants (rotation)', result: `${ops.refresh.perSec} /s`, ratio: '', target: '', p99: `${ops.refresh.p99} ms` },
  { scenario: '5 introspection of JWTs', result: `${n(ops.introspection.perSec)} /s`, ratio: '', target: '', p99: `${ops.introspection.p99Ms} ms` },
  { scenario: '6 verifier vs raw jose', result: '', ratio: Math.round(Number(ver.ratio) * 1000) / 1000, target: '>= 0.95', p99: '' },
  {
    scenario: `7 ${n(Number(ten.tenants))} tenants`,
    result: `RSS +${ten.rssGrowthMb} MB, ${ten.evictions} evictions`,
    ratio: '',
    target: 'RSS growth <= 300 MB',
    p99: '',
  },
];
console.table(rows);
console.log('Tessera ran with its defaults (LOG_LEVEL info) except in the row marked LOG_LEVEL=warn; only 2xx answers are counted.');
await saveResult('summary', { date: new Date().toISOString(), seconds: Number(seconds), rows, files });
