import { createPublicKey } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey } from 'jose';
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
const ck = (await importJWK(jwk, 'ES256')) as CryptoKey;
const token = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k' }).setIssuer('i').setAudience('a').setExpirationTime('1h').sign(privateKey);
const opts = { issuer: 'i', audience: 'a', algorithms: ['ES256'] };
async function run(name: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 3000; i++) await fn();
  const res: number[] = [];
  for (let r = 0; r < 5; r++) { let n = 0; const end = performance.now() + 1000; while (performance.now() < end) { await fn(); n++; } res.push(n); }
  res.sort((a, b) => a - b);
  console.log(name.padEnd(20), res[2]);
}
for (let k = 0; k < 2; k++) {
await run('keyObject', () => jwtVerify(token, keyObject, opts));
await run('cryptoKey', () => jwtVerify(token, ck, opts));
await run('fn->cryptoKey', () => jwtVerify(token, () => ck, opts));
await run('fn->keyObject', () => jwtVerify(token, () => keyObject, opts));
await run('subtle only', () => crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ck, new Uint8Array(64), new Uint8Array(100)));
}
