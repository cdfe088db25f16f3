/** Runs Tessera as a real child process (`npm start`) and waits for it to answer. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * How long a test waits for a spawned server to be ready. A start takes 3–6 s on an idle 2-core
 * machine; in CI, with three test workers and their own servers and browsers on the same two
 * cores, one took over 60 s (2026-12-04). The wait only ends early: a larger bound costs nothing
 * when things work, and a start that never comes still fails, with the process's output.
 */
export const PROCESS_START_MS = 150_000;
/** a test timeout that leaves room for one process start and `restMs` of work after it */
export const withStart = (restMs: number, starts = 1) => starts * PROCESS_START_MS + restMs;

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, resolves with the exit code */
  stop(): Promise<number | null>;
}

export function startProcess(env: Record<string, string>, command: string[] = ['npm', 'start', '--silent']): RunningProcess {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop() {
      // the whole group: npm, its shell and node
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function waitFor(url: string, timeoutMs: number, proc?: RunningProcess): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}):\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return res;
      lastError = new Error(`status ${res.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${String(lastError)}\n${proc?.output() ?? ''}`);
}

/** runs the operator CLI (`bin/tessera.mjs`) with only `env` (plus PATH and HOME) and waits for it */
export function runCli(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/tessera.mjs', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}
