#!/usr/bin/env node
/**
 * The four changes an independent review made to the sign-in code without any test noticing
 * (issue 19), applied one at a time to a copy of the working tree, each followed by the tests that
 * must now fail: `test/signin` (the suite the review ran) and the unit tests beside the code.
 * StrykerJS has no mutator for "5 becomes 8", so these are applied by text here.
 *
 *   node scripts/named-mutants.mjs            all four (about 4 × 1–2 min)
 *   node scripts/named-mutants.mjs rehash     only the ones whose name contains "rehash"
 *
 * Exit 0 when every mutant is killed by both suites; 1 when one survives (named on its own line).
 * test/signin runs on PostgreSQL and Redis too: TEST_DATABASE_URL / TEST_REDIS_URL, or the local
 * servers on their standard ports (as npm test finds them).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** @type {{ name: string, edits: { file: string, from: string, to: string }[], unit: string[] }[]} */
export const MUTANTS = [
  {
    name: 'no password rehash on sign-in',
    edits: [{ file: 'src/oidc/sign-in.ts', from: 'if (passwords.needsRehash(user.passwordHash)) {', to: 'if (false) {' }],
    unit: ['src/oidc/sign-in.test.ts'],
  },
  {
    name: 'the absolute refresh lifetime ignored',
    edits: [
      // the refresh token's own lifetime is the idle one, never cut at the absolute limit …
      { file: 'src/oidc/lifetimes.ts', from: 'Math.min(lifetimes.idle, first + lifetimes.absolute - now)', to: 'lifetimes.idle' },
      // … and the grant (which would refuse the refresh anyway) lives ten years
      { file: 'src/oidc/provider.ts', from: 'Grant: (_ctx, grant) => refreshLifetimes(grant.clientId).absolute,', to: 'Grant: () => 10 * 365 * 86_400,' },
    ],
    unit: ['src/oidc/lifetimes.test.ts'],
  },
  {
    name: 'address lock after 8 failures instead of 5',
    edits: [{ file: 'src/security/login-guard.ts', from: 'address: { free: 5,', to: 'address: { free: 8,' }],
    unit: ['src/security/login-guard.test.ts'],
  },
  {
    name: 'account lock after 28 failures instead of 20',
    edits: [{ file: 'src/security/login-guard.ts', from: 'account: { free: 20,', to: 'account: { free: 28,' }],
    unit: ['src/security/login-guard.test.ts'],
  },
];

function copyTree() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mutant-'));
  const skip = new Set(['node_modules', '.git', '.data', 'reports', '.stryker-tmp', 'test-output', 'scratch', 'coverage']);
  cpSync(root, dir, { recursive: true, filter: (src) => !skip.has(src.slice(root.length + 1).split('/')[0]) });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function apply(dir, edit) {
  const path = join(dir, edit.file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(edit.from);
  if (at < 0 || text.indexOf(edit.from, at + 1) >= 0)
    throw new Error(`${edit.file}: expected exactly one "${edit.from}" (the code moved: update scripts/named-mutants.mjs)`);
  writeFileSync(path, text.slice(0, at) + edit.to + text.slice(at + edit.from.length));
}

/** the failing tests of one vitest run, as "file > test" */
function failures(dir, files, config) {
  const out = join(dir, `result-${Date.now()}.json`);
  const args = ['vitest', 'run', ...(config ? ['--config', config] : []), '--reporter=json', `--outputFile=${out}`, ...files];
  const run = spawnSync('npx', args, { cwd: dir, env: { ...process.env, LOG_LEVEL: 'silent' }, encoding: 'utf8', maxBuffer: 64 << 20 });
  let report;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    throw new Error(`vitest produced no report (exit ${run.status}):\n${run.stderr.slice(-2000)}`);
  }
  const failed = [];
  for (const file of report.testResults) {
    for (const t of file.assertionResults) if (t.status === 'failed') failed.push(`${file.name.slice(dir.length + 1)} > ${t.fullName}`);
    if (file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'))
      failed.push(`${file.name.slice(dir.length + 1)} (${file.message.split('\n')[0]})`);
  }
  return failed;
}

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';
process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';

const only = process.argv[2];
let survived = 0;
for (const mutant of MUTANTS.filter((m) => !only || m.name.includes(only))) {
  const dir = copyTree();
  try {
    for (const edit of mutant.edits) apply(dir, edit);
    const started = Date.now();
    const signin = failures(dir, ['test/signin']);
    const unit = failures(dir, mutant.unit, 'vitest.mutation.config.ts');
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    const killed = signin.length > 0 && unit.length > 0;
    if (!killed) survived++;
    process.stdout.write(`\n${killed ? 'KILLED  ' : 'SURVIVED'} ${mutant.name} (${secs} s)\n`);
    process.stdout.write(`  test/signin: ${signin.length} failing${signin.length ? '' : ' — none noticed'}\n`);
    for (const f of signin.slice(0, 6)) process.stdout.write(`    ${f}\n`);
    process.stdout.write(`  unit tests: ${unit.length} failing${unit.length ? '' : ' — none noticed'}\n`);
    for (const f of unit.slice(0, 6)) process.stdout.write(`    ${f}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(survived ? `\n${survived} named mutant(s) survived\n` : '\nevery named mutant was killed\n');
process.exit(survived ? 1 : 0);
