/**
 * The JWKS cache: bounded refetch under a random-kid storm, key rotation picked up through one
 * refetch, cached keys kept while the JWKS endpoint fails or is gone. Cooldowns and ages are
 * crossed on a fake clock (only `Date` is faked), never by sleeping.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../../src/verifier/index.ts';
import { newKey, startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';

const issuers: FakeIssuer[] = [];
async function issuer(): Promise<FakeIssuer> {
  const i = await startFakeIssuer();
  issuers.push(i);
  return i;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(issuers.splice(0).map((i) => i.close().catch(() => undefined)));
});
/** moves the fake clock on by `ms` */
const pass = (ms: number) => vi.setSystemTime(Date.now() + ms);

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
    vi.useFakeTimers({ toFake: ['Date'] });
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 30 });
    await v.verify(await iss.sign());
    expect(iss.counts.jwks).toBe(1);
    const next = await newKey();
    iss.keys.push(next);
    // within the cooldown an unknown kid is not worth a fetch, even a genuine new one
    pass(29_000);
    await expect(v.verify(await iss.sign({}, {}, next))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
    expect(iss.counts.jwks).toBe(1);
    // after it, one refetch picks the new key up
    pass(1_001);
    await expect(v.verify(await iss.sign({}, {}, next))).resolves.toBeTruthy();
    expect(iss.counts.jwks).toBe(2);
    // a key the issuer stops publishing stops verifying after the next refetch
    const old = iss.keys.shift()!;
    await expect(v.verify(await iss.sign({}, {}, old))).resolves.toBeTruthy(); // cached until then
    pass(30_001);
    await expect(v.verify(await iss.sign({}, { kid: 'unknown-kid' }, next))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
    expect(iss.counts.jwks).toBe(3);
    await expect(v.verify(await iss.sign({}, {}, old))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
    await expect(v.verify(await iss.sign({}, {}, next))).resolves.toBeTruthy();
    expect(iss.counts.jwks).toBe(3);
  });

  it('keeps using cached keys while the JWKS endpoint answers 500, and refreshes them in the background', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 10, jwksMaxAgeSec: 60 });
    await v.verify(await iss.sign());
    expect(iss.counts).toMatchObject({ discovery: 1, jwks: 1 });
    // younger than jwksMaxAgeSec: nothing is fetched
    pass(59_000);
    await v.verify(await iss.sign());
    expect(iss.counts).toMatchObject({ discovery: 1, jwks: 1 });
    iss.mode = 'error';
    for (let i = 1; i <= 3; i++) {
      // older than jwksMaxAgeSec: the cached key answers at once and a refresh starts behind it
      pass(61_000);
      await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
      // a kid nobody published waits for that refresh, which failed: 503, not 401
      await expect(v.verify(await iss.sign({}, { kid: `new-kid-${i}` }))).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 });
      // exactly one request per refresh: the JWKS first, then (the failed refresh forgot the
      // metadata) the discovery document
      expect(iss.counts.jwks + iss.counts.discovery).toBe(2 + i);
    }
    expect(iss.counts).toMatchObject({ jwks: 2, discovery: 3 });
    iss.mode = 'ok';
    pass(61_000);
    await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
    // the background refresh succeeds; an unknown kid waits for it and is then plainly unknown
    await expect(v.verify(await iss.sign({}, { kid: 'still-unknown' }))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN', status: 401 });
    expect(iss.counts).toMatchObject({ jwks: 3, discovery: 4 });
    await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
  });

  it('keeps using cached keys when the JWKS server is gone', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const iss = await issuer();
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, jwksCooldownSec: 10, jwksMaxAgeSec: 60, httpTimeoutMs: 500 });
    await v.verify(await iss.sign());
    const tokens = [await iss.sign(), await iss.sign(), await iss.sign()];
    await iss.close();
    for (const [i, token] of tokens.entries()) {
      pass(61_000);
      await expect(v.verify(token)).resolves.toBeTruthy();
      // the refresh it started could not reach the server
      await expect(v.verify(await iss.sign({}, { kid: `gone-${i}` }))).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 });
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
