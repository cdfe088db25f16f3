/**
 * Verifications per second: tessera/verifier vs raw jose.jwtVerify with the same ES256 key
 * (a pre-imported KeyObject), in the same run. Not a test; never fails.
 *
 *   npx tsx bench/verifier.ts [secondsPerRound=2]
 *
 * Both sides check the same things jose can (alg allowlist, iss, aud, exp/nbf, typ, required
 * claims); the verifier also does its own header rules and key lookup. After a warm-up, the two
 * sides run in short alternating slices (raw, verifier, verifier, raw, …); the rate is the total of
 * each side's slices, and the ratio the median of the per-pair ratios (robust to a noisy machine).
 */
import { createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createVerifier } from '../src/verifier/index.ts';

const SECONDS = Number(process.argv[2] ?? 4);
/** each mode runs SECONDS per side, cut into short alternating slices so drift and noise hit both alike */
const SLICE_MS = 250;
const AUDIENCE = 'https://epi.example.org/api';

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });

const server = createServer((req, res) => {
  const body = req.url?.endsWith('/jwks') ? { keys: [jwk] } : { issuer, jwks_uri: `${issuer}/jwks` };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/bench`;

const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({
  sub: 'client-1',
  client_id: 'client-1',
  jti: 'j-1',
  scope: 'outbreaks:read simulate:run',
  roles: ['analyst'],
  tenant_id: 'bench',
})
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench-1' })
  .setIssuer(issuer)
  .setAudience(AUDIENCE)
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);

const verifier = createVerifier({ issuer, audience: AUDIENCE });
const rawOptions = {
  issuer,
  audience: AUDIENCE,
  algorithms: ['ES256', 'RS256', 'EdDSA'],
  typ: 'at+jwt',
  clockTolerance: 5,
  requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
};

const raw = () => jwtVerify(token, keyObject, rawOptions);
const ours = () => verifier.verify(token);
await raw();
await ours(); // fetches discovery + JWKS once

async function run(fn: () => Promise<unknown>, ms: number, concurrency: number): Promise<number> {
  let ops = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      ops++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ops / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows: { mode: string; raw: number; verifier: number; ratio: number }[] = [];
for (const concurrency of [1, 16]) {
  await run(raw, 1500, concurrency); // warm-up
  await run(ours, 1500, concurrency);
  const r: number[] = [];
  const v: number[] = [];
  const ratios: number[] = [];
  const pairs = Math.max(1, Math.round((SECONDS * 1000) / SLICE_MS));
  for (let i = 0; i < pairs; i++) {
    // alternate which side goes first
    const first = i % 2 === 0;
    const a = first ? await run(raw, SLICE_MS, concurrency) : 0;
    const b = await run(ours, SLICE_MS, concurrency);
    const c = first ? a : await run(raw, SLICE_MS, concurrency);
    r.push(c);
    v.push(b);
    ratios.push(b / c);
  }
  rows.push({ mode: `ES256, concurrency ${concurrency}`, raw: mean(r), verifier: mean(v), ratio: median(ratios) });
}
server.close();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
console.log(`\nnode ${process.version}, ${SECONDS}s per side per mode in ${SLICE_MS} ms alternating slices\n`);
console.log('| mode                  | jose.jwtVerify /s | tessera verifier /s | ratio |');
console.log('| --------------------- | ----------------: | ------------------: | ----: |');
for (const row of rows) {
  console.log(`| ${row.mode.padEnd(21)} | ${fmt(row.raw).padStart(17)} | ${fmt(row.verifier).padStart(19)} | ${row.ratio.toFixed(3)} |`);
}
const worst = Math.min(...rows.map((r) => r.ratio));
console.log(`\nratio (worst mode): ${worst.toFixed(3)} — target >= 0.95: ${worst >= 0.95 ? 'met' : 'NOT met'}`);

// machine-readable result for `npm run bench`
const { saveResult } = await import('./lib.ts');
await saveResult('verifier', { date: new Date().toISOString(), rows, ratio: worst, target: 0.95 });
