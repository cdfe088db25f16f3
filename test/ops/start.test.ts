/**
 * A fresh `npm start` with no DATABASE_URL or REDIS_URL serves discovery within 60 s on the
 * embedded database; a second start reuses the data directory: same keys, no second bootstrap.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROCESS_START_MS, freePort, startProcess, waitFor, withStart } from '../helpers/process.ts';

describe('npm start on the embedded default', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'serves discovery, then restarts on the same data with the same keys',
    async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'tessera-start-'));
      const port = await freePort();
      const env = { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' };
      const base = `http://localhost:${port}/t/system`;

      const first = startProcess(env);
      let jwks1: { keys: { kid: string }[] };
      try {
        const disco = await waitFor(`${base}/.well-known/openid-configuration`, PROCESS_START_MS, first);
        const body = (await disco.json()) as Record<string, string>;
        expect(body.issuer).toBe(`http://localhost:${port}/t/system`);
        jwks1 = (await (await fetch(body.jwks_uri!)).json()) as typeof jwks1;
        expect(jwks1.keys).toHaveLength(2); // active + next
      } finally {
        await first.stop();
      }
      expect(first.output()).toMatch(/Generated password \(shown only now\): \S{20,}/);
      // the generated key encryption key is private to the data directory
      expect((await stat(join(dataDir, 'key-encryption-key'))).mode & 0o077).toBe(0);
      const kek = (await readFile(join(dataDir, 'key-encryption-key'), 'utf8')).trim();
      expect(Buffer.from(kek, 'base64')).toHaveLength(32);

      // the second start runs node directly, so its own exit code is observed
      const second = startProcess(env, [process.execPath, '--import', 'tsx', 'src/main.ts']);
      try {
        await waitFor(`${base}/.well-known/openid-configuration`, PROCESS_START_MS, second);
        const jwks2 = (await (await fetch(`${base}/jwks`)).json()) as typeof jwks1;
        expect(jwks2.keys.map((k) => k.kid)).toEqual(jwks1.keys.map((k) => k.kid));
      } finally {
        expect(await second.stop()).toBe(0);
      }
      expect(second.output()).not.toContain('Generated password');
      expect(second.output()).not.toContain(kek);
    },
    withStart(30_000, 2),
  );
});
