/**
 * The JWKS cache: bounded refetch under a random-kid storm, key rotation picked up through one
 * refetch, cached keys kept while the JWKS endpoint fails or is gone.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.ts';
import { newKey, startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';

const issuers: FakeIssuer[] = [];
async function issuer(): Promise<FakeIssuer> {
  const i = await startFakeIssuer();
  issuers.push(i);
  return i;
}
afterEach(async () => {
  await Promise.all(issuers.splice(0).map((i) => i.close().catch(() => undefined)));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JWKS cache', () => {
  it('fetches the JWKS once for many concurrent first tokens', async () => {
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => iss.sign()));
    await Promise.all(tokens.map((t) => v.verify(t)));
    expect(iss.counts.jwks).toBe(1);
    expect(iss.counts.discovery).toBe(1);
  });

  it('does not turn a storm of random kids into a storm of fetches', async () => {
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 30 });
    await v.verify(await iss.sign());
    const attacker = await newKey();
    const storm = await Promise.all(Array.from({ length: 300 }, () => iss.sign({}, { kid: randomUUID() }, attacker)));
    // concurrent
    const results = await Promise.allSettled(storm.slice(0, 200).map((t) => v.verify(t)));
    // and sequential
    for (const t of storm.slice(200)) results.push(...(await Promise.allSettled([v.verify(t)])));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ERR_KID_UNKNOWN')).toBe(true);
    expect(iss.counts.jwks).toBeLessThanOrEqual(2);
    // genuine tokens keep working throughout
    await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
  });

  it('picks up a rotated-in key with one refetch, at most once per cooldown', async () => {
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 0.2 });
    await v.verify(await iss.sign());
    await sleep(250);
    const next = await newKey();
    iss.keys.push(next);
    await expect(v.verify(await iss.sign({}, {}, next))).resolves.toBeTruthy();
    expect(iss.counts.jwks).toBe(2);
    // a key the issuer stops publishing stops verifying after the next refetch
    const old = iss.keys.shift()!;
    await sleep(250);
    await expect(v.verify(await iss.sign({}, { kid: 'unknown-kid' }, next))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
    await expect(v.verify(await iss.sign({}, {}, old))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
  });

  it('keeps using cached keys while the JWKS endpoint answers 500', async () => {
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 0.05, jwksMaxAgeSec: 0 });
    await v.verify(await iss.sign());
    iss.mode = 'error';
    for (let i = 0; i < 5; i++) {
      await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
      await sleep(60);
    }
    expect(iss.counts.jwks + iss.counts.discovery).toBeGreaterThan(2); // background refreshes were tried and failed
    // an unknown kid cannot be checked now: 503, not 401
    await expect(v.verify(await iss.sign({}, { kid: 'new-kid' }))).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 });
    iss.mode = 'ok';
    await sleep(60);
    await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
  });

  it('keeps using cached keys when the JWKS server is gone', async () => {
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 0.05, jwksMaxAgeSec: 0, httpTimeoutMs: 500 });
    await v.verify(await iss.sign());
    const token = await iss.sign();
    await iss.close();
    for (let i = 0; i < 3; i++) {
      await expect(v.verify(token)).resolves.toBeTruthy();
      await sleep(60);
    }
  });

  it('answers ERR_JWKS_UNAVAILABLE (503) when no key was ever fetched', async () => {
    const iss = await issuer();
    iss.mode = 'error';
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience });
    await expect(v.verify(await iss.sign())).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 });
  });

  it('never uses a discovery document that names another issuer', async () => {
    const iss = await issuer();
    // configured issuer differs from what the server's discovery document says
    const v = createVerifier({ issuer: `${iss.origin}/t/demo/`, audience: iss.audience });
    await expect(v.verify(await iss.sign({ iss: `${iss.origin}/t/demo/` }))).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' });
    expect(iss.counts.jwks).toBe(0);
  });
});
