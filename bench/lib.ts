/**
 * Shared pieces of the benchmarks: run wrk against a URL (only 2xx answers count; any other
 * answer fails the run), and write a result as JSON with what it was measured on.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LUA_FORM_POST = fileURLToPath(new URL('./lua/form-post.lua', import.meta.url));
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** where results go: bench/results/ (committed for the figures README quotes), or BENCH_RESULTS_DIR */
export const resultsDir = () => process.env.BENCH_RESULTS_DIR || join(ROOT, 'bench', 'results');

/** a benchmark that must not be reported: non-2xx answers, socket errors, missing request logs */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

export interface WrkResult {
  /** 2xx answers per second: the throughput every table reports */
  perSec: number;
  /** 2xx answers */
  ok: number;
  /** every answer wrk received, whatever its status */
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** answers by HTTP status */
  statuses: Record<string, number>;
}

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;

/** what wrk printed with bench/lua/form-post.lua, parsed; undefined when a line is missing */
export function parseWrk(out: string) {
  const p50 = /50%\s+([\d.]+)(us|ms|s)\b/.exec(out);
  const p99 = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
  const statusLine = /^STATUSES ?(.*)$/m.exec(out);
  const summary = /^SUMMARY requests=(\d+) duration_us=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+)$/m.exec(out);
  if (!p50 || !p99 || !statusLine || !summary) return undefined;
  const statuses: Record<string, number> = {};
  for (const part of statusLine[1]!.trim().split(/\s+/).filter(Boolean)) {
    const [status, n] = part.split('=');
    statuses[status!] = Number(n);
  }
  const [requests, durationUs, connect, read, write, timeout] = summary.slice(1).map(Number) as [number, number, number, number, number, number];
  return {
    p50Ms: toMs(p50[1]!, p50[2]!),
    p99Ms: toMs(p99[1]!, p99[2]!),
    statuses,
    requests,
    seconds: durationUs / 1e6,
    socketErrors: { connect, read, write, timeout },
  };
}

/**
 * wrk against `url` (a form POST of `body`, or a GET), counting answers by status (bench/lua/).
 * Throws a BenchFailure naming `scenario` when any answer was not 2xx or any socket failed:
 * a benchmark that got errors has not measured what it says.
 */
export function runWrk(
  scenario: string,
  url: string,
  opts: { connections: number; seconds: number; threads?: number; body?: string; auth?: string },
): Promise<WrkResult> {
  const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', '-s', LUA_FORM_POST, url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env: { ...process.env, BODY: opts.body ?? '', AUTH: opts.auth ?? '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => reject(new BenchFailure(`${scenario}: cannot run wrk (${err.message}); install it: apt-get install wrk`)));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new BenchFailure(`${scenario}: wrk exited ${code}: ${out}`));
      const r = parseWrk(out);
      if (!r) return reject(new BenchFailure(`${scenario}: could not parse wrk output:\n${out}`));
      const ok = Object.entries(r.statuses).reduce((a, [s, n]) => (Number(s) >= 200 && Number(s) < 300 ? a + n : a), 0);
      const other = Object.entries(r.statuses).filter(([s]) => !(Number(s) >= 200 && Number(s) < 300));
      const socket = Object.entries(r.socketErrors).filter(([, n]) => n > 0);
      if (other.length || socket.length || ok === 0) {
        const parts = [
          other.length
            ? `${other.reduce((a, [, n]) => a + n, 0)} of ${r.requests} answers were not 2xx (${other.map(([s, n]) => `${n} × ${s}`).join(', ')})`
            : '',
          socket.length ? `socket errors: ${socket.map(([k, n]) => `${n} ${k}`).join(', ')}` : '',
          ok === 0 ? 'no 2xx answer at all' : '',
        ].filter(Boolean);
        return reject(new BenchFailure(`${scenario}: ${parts.join('; ')} — ${url}`));
      }
      resolve({ perSec: ok / r.seconds, ok, requests: r.requests, seconds: r.seconds, p50Ms: r.p50Ms, p99Ms: r.p99Ms, statuses: r.statuses });
    });
  });
}

/** several wrk runs of one side, as one row: 2xx/s over all of them, the worst percentiles */
export function combine(runs: WrkResult[]) {
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    rps: Math.round((ok / seconds) * 10) / 10,
    p50: Math.max(...runs.map((r) => r.p50Ms)),
    p99: Math.max(...runs.map((r) => r.p99Ms)),
    ok,
    non2xx: runs.reduce((a, r) => a + r.requests - r.ok, 0),
  };
}

export const basic = (id: string, secret: string) => Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

/** the reference server's one client and one resource (bench/reference-server.ts) */
export const REFERENCE_CLIENT = { client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret' };
export const REFERENCE_API = 'https://api.bench.example';

const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);

/** what a result was measured on: commit, Node, cores, load, the settings that change numbers */
export function runContext() {
  const git = (...args: string[]) => {
    try {
      // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (write) the index of a shared tree
      return execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  };
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench', 'package.json');
  const knobs = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(BENCH_|LOADTEST_|WEB_CONCURRENCY$|ARGON2_|PASSWORD_HASH_)/.test(k) && !k.endsWith('_URL')),
  );
  return {
    commit: git('rev-parse', 'HEAD'),
    /** src/, bench/ or package.json differed from that commit */
    uncommittedChanges: changed === undefined ? undefined : changed.length > 0,
    node: process.version,
    cpus: availableParallelism(),
    /** 1, 5 and 15 minute load averages when the script started and when it wrote this (the benchmark's own load included) */
    loadavgAtStart: loadAtStart,
    loadavgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    command: ['tsx', ...process.argv.slice(1).map((a) => a.replace(ROOT, ''))].join(' '),
    settings: knobs,
  };
}

/** writes `{...result, context}` to `<results dir>/<name>-<date>.json` and returns the path */
export async function saveResult(name: string, result: { date: string } & Record<string, unknown>): Promise<string> {
  const dir = resultsDir();
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}-${result.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, `${JSON.stringify({ ...result, context: runContext() }, null, 2)}\n`);
  console.log(`result: ${path}`);
  return path;
}

/**
 * The end of every benchmark script: a BenchFailure is printed as one clear line and exits 1
 * (after the script's own `finally` stopped its servers).
 */
export async function main(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof BenchFailure) {
      process.stderr.write(`\nBENCHMARK FAILED: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
