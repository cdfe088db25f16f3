/**
 * examples/fastapi (PyJWT + FastAPI, Debian's python3 packages) as a real child process against a
 * running Tessera: an analyst of tenant A may simulate, a viewer gets 403, tenant B's token 401.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';
import { API, seedEpidemicTenants, type Seeded } from './support/tenants.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/fastapi/', import.meta.url));

let server: TestServer;
let seeded: Seeded;
let child: ChildProcess | undefined;
let output = '';
let apiUrl = '';

/** starts serve.py on 127.0.0.1:0 and resolves with the port it printed */
function startFastApi(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn('/usr/bin/python3', ['serve.py'], {
      cwd: EXAMPLE,
      // a minimal environment: no proxy variables, so nothing leaves 127.0.0.1/localhost
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_PROXY: '*', PYTHONDONTWRITEBYTECODE: '1', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const timer = setTimeout(() => reject(new Error(`fastapi did not start:\n${output}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /LISTENING (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fastapi exited with ${code}:\n${output}`));
    });
  });
}

async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`fastapi is not answering: ${String(err)}\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

beforeAll(async () => {
  server = await startTestServer('pglite');
  seeded = await seedEpidemicTenants(server);
  const port = await startFastApi({ ISSUERS: seeded.issuerA, AUDIENCE: API });
  apiUrl = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(`${apiUrl}/outbreaks`);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await server?.stop();
});

const call = (path: string, token: string | undefined, body?: unknown) =>
  fetch(`${apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('examples/fastapi', () => {
  it("accepts an analyst's token for POST /simulate", async () => {
    const res = await call('/simulate', await seeded.token(seeded.analystA), { outbreakId: 'ob-a-1', days: 30 });
    expect(res.status, output).toBe(200);
    expect(await res.json()).toMatchObject({ outbreakId: 'ob-a-1', days: 30, requestedBy: seeded.analystA.clientId });
  });

  it('refuses a viewer with 403 insufficient_scope', async () => {
    const res = await call('/simulate', await seeded.token(seeded.viewerA), { outbreakId: 'ob-a-1' });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    // the viewer may read its tenant's outbreaks
    const list = await call('/outbreaks', await seeded.token(seeded.viewerA));
    expect(list.status).toBe(200);
    const body = (await list.json()) as { outbreaks: { tenantId: string }[] };
    expect(body.outbreaks.every((o) => o.tenantId === 'health-a')).toBe(true);
  });

  it("refuses tenant B's token, a forged one and none at all with 401", async () => {
    const tokenB = await seeded.token(seeded.analystB);
    for (const token of [tokenB, `${(await seeded.token(seeded.analystA)).slice(0, -3)}AAA`, undefined]) {
      const res = await call('/simulate', token, { outbreakId: 'ob-b-1' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call('/outbreaks', tokenB)).headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });
});
