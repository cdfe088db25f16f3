/**
 * The key encryption key. With DATABASE_URL it must come from KEY_ENCRYPTION_KEY (config/ enforces
 * that); in embedded mode it is generated once into DATA_DIR/key-encryption-key (mode 0600) and
 * read back on every later start, so the same data directory keeps working.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';

export const KEK_FILE = 'key-encryption-key';

export async function resolveKeyEncryptionKey(config: Config): Promise<Buffer> {
  if (config.keyEncryptionKey) return config.keyEncryptionKey;
  const file = join(config.dataDir, KEK_FILE);
  await mkdir(config.dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes cannot both generate one
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
