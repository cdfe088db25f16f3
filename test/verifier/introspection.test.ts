/**
 * Revocation awareness: introspection after local verification, cached briefly, fail closed;
 * against a fake issuer (request counts, failure modes) and against a real Tessera (active,
 * revoked, cache lifetime as documented: `cacheTtlSec`, never beyond the token's `exp`).
 * Cache lifetimes are crossed on a fake clock (only `Date` is faked; the real Tessera runs in this
 * process, so its clock moves too), never by sleeping.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import { createVerifier } from '../../src/verifier/index.ts';
import { startTestServer, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';
import { API, seedEpidemicTenants, type Seeded } from './support/tenants.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('introspection', () => {
  let iss: FakeIssuer;
  beforeAll(async () => {
    iss = await startFakeIssuer();
  });
  afterAll(() => iss?.close());

  it('asks the issuer with client_secret_basic, caches the answer for cacheTtlSec and then honours revocation', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
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
    vi.setSystemTime(start + 999);
    await expect(v.verify(token)).resolves.toBeTruthy(); // still cached, a millisecond before the end
    expect(iss.counts.introspection - before).toBe(1);
    vi.setSystemTime(start + 1001);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_REVOKED', status: 401 });
    expect(iss.counts.introspection - before).toBe(2);
  });

  it('never keeps an answer beyond the token’s exp', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Math.floor(Date.now() / 1000);
    // a generous clock tolerance lets the token through locally a little after its exp: the
    // cached answer (300 s) must not, it ends at exp
    const v = createVerifier({
      issuer: iss.issuer,
      audience: iss.audience,
      clockToleranceSec: 60,
      introspection: { clientId: 'c', clientSecret: 's', cacheTtlSec: 300 },
    });
    const token = await iss.sign({ exp: now + 20 });
    const before = iss.counts.introspection;
    await v.verify(token);
    vi.setSystemTime((now + 19) * 1000);
    await v.verify(token);
    expect(iss.counts.introspection - before).toBe(1);
    vi.setSystemTime((now + 21) * 1000);
    await v.verify(token);
    expect(iss.counts.introspection - before).toBe(2);
    // beyond the tolerance it fails locally, without asking
    vi.setSystemTime((now + 81) * 1000);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
    expect(iss.counts.introspection - before).toBe(2);
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

describe('introspection against a running Tessera', () => {
  let server: TestServer;
  let seeded: Seeded;
  let endpoints: Record<string, string>;
  /** every URL the verifiers fetched */
  const fetched: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return fetch(input, init);
  };
  const introspections = () => fetched.filter((u) => u === endpoints.introspection_endpoint).length;
  /** a downstream API of tenant health-a that introspects with its own confidential client */
  const verifierOfA = (opts: { cacheTtlSec?: number; clientSecret?: string } = {}) =>
    createVerifier({
      issuer: seeded.issuerA,
      audience: API,
      fetch: countingFetch,
      introspection: { clientId: seeded.viewerA.clientId, clientSecret: opts.clientSecret ?? seeded.viewerA.clientSecret, cacheTtlSec: opts.cacheTtlSec ?? 30 },
    });
  /** RFC 7009 revocation by the token's own client (an empty 200 answer) */
  const revoke = async (token: string) => {
    const { clientId, clientSecret } = seeded.analystA;
    const res = await fetch(endpoints.revocation_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    server = await startTestServer('pglite');
    seeded = await seedEpidemicTenants(server);
    endpoints = await discover(server.url, 'health-a');
  });
  afterAll(() => server?.stop());

  it('accepts an active token after one introspection and answers repeats from the cache', async () => {
    const v = verifierOfA();
    const token = await seeded.token(seeded.analystA);
    const before = introspections();
    const results = await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
    await v.verify(token);
    expect(results[0]!.payload).toMatchObject({ iss: seeded.issuerA, client_id: seeded.analystA.clientId, tenant_id: 'health-a' });
    expect(introspections() - before).toBe(1);
    // each token is introspected on its own
    await v.verify(await seeded.token(seeded.analystA));
    expect(introspections() - before).toBe(2);
  });

  it('refuses a revoked token: at once without a cached answer, after cacheTtlSec with one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const cached = verifierOfA({ cacheTtlSec: 30 });
    const token = await seeded.token(seeded.analystA);
    await expect(cached.verify(token)).resolves.toBeTruthy();
    const before = introspections();
    await revoke(token);
    // Tessera itself reports it inactive
    const answer = await tokenRequest(endpoints.introspection_endpoint!, { token }, seeded.viewerA);
    expect(answer.body).toEqual({ active: false });
    // a verifier without a cached answer refuses it at once
    await expect(verifierOfA().verify(token)).rejects.toMatchObject({ code: 'ERR_REVOKED', status: 401 });
    expect(introspections() - before).toBe(1);
    // the caching verifier accepts it while its answer is fresh (as documented), then asks again
    await expect(cached.verify(token)).resolves.toBeTruthy();
    vi.setSystemTime(start + 29_000);
    await expect(cached.verify(token)).resolves.toBeTruthy();
    expect(introspections() - before).toBe(1);
    vi.setSystemTime(start + 30_001);
    await expect(cached.verify(token)).rejects.toMatchObject({ code: 'ERR_REVOKED', status: 401 });
    expect(introspections() - before).toBe(2);
    // the refusal is cached too
    await expect(cached.verify(token)).rejects.toMatchObject({ code: 'ERR_REVOKED' });
    expect(introspections() - before).toBe(2);
    // another token of the same client is unaffected
    await expect(cached.verify(await seeded.token(seeded.analystA))).resolves.toBeTruthy();
  });

  it('never introspects an expired token or one of another tenant', async () => {
    const v = verifierOfA();
    const token = await seeded.token(seeded.analystA);
    const foreign = await seeded.token(seeded.analystB);
    const before = introspections();
    await expect(v.verify(foreign)).rejects.toMatchObject({ code: 'ERR_ISSUER', status: 401 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((decodeJwt(token).exp! + 6) * 1000);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED', status: 401 });
    expect(introspections()).toBe(before);
  });

  it('fails closed when Tessera refuses the introspection credentials', async () => {
    const v = verifierOfA({ clientSecret: 'not-the-secret' });
    await expect(v.verify(await seeded.token(seeded.analystA))).rejects.toMatchObject({ code: 'ERR_INTROSPECTION_UNAVAILABLE', status: 503 });
  });
});
