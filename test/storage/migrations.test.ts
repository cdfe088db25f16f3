/** prisma/migrations and prisma/schema.prisma agree: `npm run db:migration` would create nothing. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.ts';

describe('migrations', () => {
  it('match the schema', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/new-migration.ts', 'check'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TESSERA_MIGRATION_DRY_RUN: '1' },
    });
    expect(res.stderr.replace(/.*Unsupported runtime.*\n?/g, '')).toBe('');
    expect(res.stdout).toContain('schema and migrations agree');
    expect(res.status).toBe(0);
  });
});
