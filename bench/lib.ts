/** Shared pieces of the benchmarks: run wrk against a URL and parse what it reports. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LUA_FORM_POST = fileURLToPath(new URL('./lua/form-post.lua', import.meta.url));

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  requests: number;
}

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;

export function runWrk(url: string, opts: { connections: number; seconds: number; threads?: number; body?: string; auth?: string }): Promise<WrkResult> {
  const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency'];
  if (opts.body !== undefined) args.push('-s', LUA_FORM_POST);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env: { ...process.env, BODY: opts.body ?? '', AUTH: opts.auth ?? '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const total = /(\d+) requests in/.exec(out);
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      if (!rps || !p50 || !p99 || !total) return reject(new Error(`could not parse wrk output:\n${out}`));
      resolve({
        requestsPerSec: Number(rps[1]),
        p50Ms: toMs(p50[1]!, p50[2]!),
        p99Ms: toMs(p99[1]!, p99[2]!),
        non2xx: non2xx ? Number(non2xx[1]) : 0,
        requests: Number(total[1]),
      });
    });
  });
}

export const basic = (id: string, secret: string) => Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

/** the reference server's one client and one resource (bench/reference-server.ts) */
export const REFERENCE_CLIENT = { client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret' };
export const REFERENCE_API = 'https://api.bench.example';
