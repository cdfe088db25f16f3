/**
 * Issue 14, part 3: `npm test` runs every test from nothing. Its preparation, checked through
 * `--plan` (which says what it would do and does nothing): what is missing is named and installed
 * with Debian's packages, and PostgreSQL and Redis are used when they are there. (The installation
 * itself was verified on a machine with Chromium removed: see the closing note.)
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.ts';

const plan = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['scripts/test.mjs', '--plan'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('the npm test command', () => {
  it('names and installs what the browser and FastAPI tests need when it is missing', () => {
    const res = plan({
      TESSERA_TEST_CHROMIUM: '/nonexistent/chromium',
      TESSERA_TEST_PYTHON: '/nonexistent/python3',
      TEST_DATABASE_URL: 'postgresql://u:secret@db.example:5432/x',
      TEST_REDIS_URL: 'redis://r.example:6379',
    });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('missing: no browser at /nonexistent/chromium');
    expect(res.stdout).toContain(
      'installing Debian packages: chromium chromium-driver python3 python3-fastapi python3-jwt python3-uvicorn python3-cryptography',
    );
    // the given servers are used, their passwords never printed
    expect(res.stdout).toContain('PostgreSQL: postgresql://u:***@db.example:5432/x (TEST_DATABASE_URL)');
    expect(res.stdout).toContain('Redis: redis://r.example:6379 (TEST_REDIS_URL)');
    expect(res.stdout).not.toContain('secret');
  });

  it('installs nothing when everything is there', () => {
    const res = plan({
      TESSERA_TEST_CHROMIUM: process.execPath,
      TESSERA_TEST_PYTHON: '/usr/bin/python3',
      TEST_DATABASE_URL: 'postgresql://x@h/db',
      TEST_REDIS_URL: 'redis://h:6379',
    });
    expect(res.status).toBe(0);
    // npm test installed the FastAPI example's packages before this suite ran
    expect(res.stdout).not.toContain('missing:');
    expect(res.stdout).not.toContain('installing');
  });
});
