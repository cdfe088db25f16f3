#!/usr/bin/env node
/**
 * `npm test`: the one command that runs every test from nothing, on a fresh machine of the
 * project's kind (Debian, root, Debian's registry reachable) as in CI (.ci/run calls it too).
 *
 *  1. What the suite needs beyond npm: Debian's `chromium` (the browser sign-in test, driven by
 *     playwright-core; never `playwright install`) and Python's FastAPI, PyJWT, uvicorn and
 *     cryptography (the FastAPI example consuming Tessera's tokens). Missing ones are installed
 *     with apt-get, saying so first; where that cannot be done the command stops with one line
 *     saying what to install.
 *  2. PostgreSQL and Redis: TEST_DATABASE_URL / TEST_REDIS_URL when set; otherwise the local ones
 *     (127.0.0.1:5432, user postgres; 127.0.0.1:6379), started with the machine's own commands
 *     when they are installed but down. When a server is not there at all, the suites that need it
 *     fail, each with one line naming the variable to set, and the command says so before and after
 *     (nothing skips green: the PostgreSQL and Redis variants are part of every run).
 *  3. `vitest run` with the arguments given (`npm test -- test/security` runs one folder).
 *
 * `node scripts/test.mjs --plan` prints what it would install and use, and runs nothing.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

const args = process.argv.slice(2);
const planOnly = args.includes('--plan');
const vitestArgs = args.filter((a) => a !== '--plan');
const say = (line) => process.stdout.write(`npm test: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`npm test: ${line}\n`);
  process.exit(1);
};

// ── 1. system packages ──────────────────────────────────────────────────────────────────────────
const CHROMIUM = process.env.TESSERA_TEST_CHROMIUM ?? '/usr/bin/chromium';
const PYTHON = process.env.TESSERA_TEST_PYTHON ?? '/usr/bin/python3';
const needs = [];
if (!existsSync(CHROMIUM)) needs.push({ why: `no browser at ${CHROMIUM} (browser sign-in test)`, packages: ['chromium', 'chromium-driver'] });
const pythonOk = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import fastapi, jwt, uvicorn, cryptography'], { stdio: 'ignore' }).status === 0;
if (!pythonOk) {
  needs.push({
    why: 'no FastAPI, PyJWT, uvicorn or cryptography for python3 (FastAPI example test)',
    packages: ['python3', 'python3-fastapi', 'python3-jwt', 'python3-uvicorn', 'python3-cryptography'],
  });
}
const packages = needs.flatMap((n) => n.packages);
if (packages.length) {
  for (const n of needs) say(`missing: ${n.why}`);
  say(`installing Debian packages: ${packages.join(' ')}`);
  if (!planOnly) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find((p) => existsSync(p));
    if (!root || !aptGet)
      fail(`cannot install them here (${!aptGet ? 'no apt-get' : 'not root'}): run \`apt-get install -y ${packages.join(' ')}\` as root, then npm test again`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync(aptGet, ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env }).status === 0;
    if (!install()) {
      say('apt-get install failed; updating the package lists and trying again');
      spawnSync(aptGet, ['update'], { stdio: 'inherit', env });
      if (!install()) fail(`apt-get could not install ${packages.join(' ')} (see above); install them, then npm test again`);
    }
  }
}

// ── 2. PostgreSQL and Redis ──────────────────────────────────────────────────────────────────────
const reachable = (host, port) =>
  new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: 1000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
const waitFor = async (host, port) => {
  for (let i = 0; i < 30; i++) {
    if (await reachable(host, port)) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [];

async function ensurePostgres() {
  if (process.env.TEST_DATABASE_URL) return say(`PostgreSQL: ${redact(process.env.TEST_DATABASE_URL)} (TEST_DATABASE_URL)`);
  const url = 'postgresql://postgres@127.0.0.1:5432/postgres';
  let up = await reachable('127.0.0.1', 5432);
  if (!up && has('pg_ctlcluster') && existsSync('/etc/postgresql')) {
    say('PostgreSQL is installed but down: starting it');
    if (!planOnly) {
      const version = execFileSync('ls', ['/etc/postgresql'], { encoding: 'utf8' }).split('\n')[0];
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
      up = await waitFor('127.0.0.1', 5432);
    }
  }
  if (up) {
    process.env.TEST_DATABASE_URL = url;
    return say(`PostgreSQL: ${url}`);
  }
  missing.push('the PostgreSQL suites will fail: no PostgreSQL at 127.0.0.1:5432 and TEST_DATABASE_URL unset');
}

async function ensureRedis() {
  if (process.env.TEST_REDIS_URL) return say(`Redis: ${redact(process.env.TEST_REDIS_URL)} (TEST_REDIS_URL)`);
  const url = 'redis://127.0.0.1:6379';
  let up = await reachable('127.0.0.1', 6379);
  if (!up && has('redis-server')) {
    say('Redis is installed but down: starting it (keeps nothing on disk)');
    if (!planOnly) {
      spawnSync('mkdir', ['-p', '/var/lib/redis', '/var/log/redis']);
      spawnSync(
        'redis-server',
        [
          '--daemonize',
          'yes',
          '--bind',
          '127.0.0.1',
          '-::1',
          '--port',
          '6379',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          '/var/lib/redis',
          '--logfile',
          '/var/log/redis/ci.log',
        ],
        { stdio: 'inherit' },
      );
      up = await waitFor('127.0.0.1', 6379);
    }
  }
  if (up) {
    process.env.TEST_REDIS_URL = url;
    return say(`Redis: ${url}`);
  }
  missing.push('the Redis suites will fail: no Redis at 127.0.0.1:6379 and TEST_REDIS_URL unset');
}

function redact(url) {
  const u = URL.parse(url);
  if (u?.password) u.password = '***';
  return u ? u.href : url;
}

await ensurePostgres();
await ensureRedis();
const banner = () => {
  for (const line of missing) process.stdout.write(`\n  MISSING: ${line}\n`);
  if (missing.length) process.stdout.write('\n');
};
banner();
if (planOnly) process.exit(0);

// ── 3. the suite ─────────────────────────────────────────────────────────────────────────────────
const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...vitestArgs], { stdio: 'inherit', env: process.env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  banner();
  process.exit(code ?? (signal ? 1 : 0));
});
