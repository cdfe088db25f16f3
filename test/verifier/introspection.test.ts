/** Revocation awareness: introspection after local verification, cached briefly, fail closed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.ts';
import { startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';

let iss: FakeIssuer;
beforeAll(async () => {
  iss = await startFakeIssuer();
});
afterAll(() => iss?.close());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('introspection', () => {
  it('asks the issuer with client_secret_basic, caches the answer and honours revocation', async () => {
    const v = createVerifier({
      issuer: iss.issuer,
      audience: iss.audience,
      introspection: { clientId: 'api:client', clientSecret: 's3cr=t&', cacheTtlSec: 1 },
    });
    const token = await iss.sign();
    const before = iss.counts.introspection;
    await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
    await v.verify(token);
    expect(iss.counts.introspection - before).toBe(1);
    expect(iss.introspectionAuth.at(-1)).toBe(`Basic ${Buffer.from('api%3Aclient:s3cr%3Dt%26').toString('base64')}`);

    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    iss.revoked.add(jti);
    await expect(v.verify(token)).resolves.toBeTruthy(); // still cached
    await sleep(1100);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_REVOKED', status: 401 });
  });

  it('never introspects a token that fails locally', async () => {
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, introspection: { clientId: 'c', clientSecret: 's' } });
    const before = iss.counts.introspection;
    await expect(v.verify(await iss.sign({ aud: 'other' }))).rejects.toMatchObject({ code: 'ERR_AUDIENCE' });
    expect(iss.counts.introspection).toBe(before);
  });

  it('fails closed when the introspection endpoint fails', async () => {
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, introspection: { clientId: 'c', clientSecret: 's' } });
    await v.verify(await iss.sign()); // keys cached
    iss.mode = 'error';
    try {
      await expect(v.verify(await iss.sign())).rejects.toMatchObject({ code: 'ERR_INTROSPECTION_UNAVAILABLE', status: 503 });
    } finally {
      iss.mode = 'ok';
    }
  });
});
