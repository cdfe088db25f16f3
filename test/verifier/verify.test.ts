/**
 * createVerifier against a local issuer (discovery + JWKS on 127.0.0.1:0): genuine tokens pass,
 * every classic JWT attack and every claim violation is refused with its stable code.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, isVerifierError, type Verifier, type VerifierErrorCode } from '../../src/verifier/index.ts';
import { defaultClaims, newKey, rawJwt, signRawES256, startCanary, startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';

let iss: FakeIssuer;
let canary: Awaited<ReturnType<typeof startCanary>>;
let verifier: Verifier;

beforeAll(async () => {
  iss = await startFakeIssuer();
  canary = await startCanary();
  verifier = createVerifier({ issuer: iss.issuer, audience: iss.audience });
});
afterAll(async () => {
  await iss?.close();
  await canary?.close();
});

async function rejects(token: string, code: VerifierErrorCode, status = 401): Promise<void> {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVerifierError(err), `expected a VerifierError, got ${String(err)}`).toBe(true);
  if (isVerifierError(err)) {
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
  }
}

const parts = (token: string) => token.split('.') as [string, string, string];
const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

describe('createVerifier', () => {
  it('accepts a genuine token and returns its claims and header', async () => {
    const token = await iss.sign();
    const { payload, protectedHeader } = await verifier.verify(token);
    expect(payload).toMatchObject({ iss: iss.issuer, aud: iss.audience, sub: 'client-1', roles: ['analyst'] });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: iss.keys[0]!.kid });
  });

  it('accepts typ application/at+jwt and an expiry within the clock tolerance', async () => {
    await expect(verifier.verify(await iss.sign({}, { typ: 'application/at+jwt' }))).resolves.toBeTruthy();
    const now = Math.floor(Date.now() / 1000);
    await expect(verifier.verify(await iss.sign({ exp: now - 2 }))).resolves.toBeTruthy();
    await expect(verifier.verify(await iss.sign({ nbf: now + 2 }))).resolves.toBeTruthy();
  });

  it('refuses alg none', async () => {
    const h = { alg: 'none', typ: 'at+jwt', kid: iss.keys[0]!.kid };
    await rejects(rawJwt(h, defaultClaims(iss.issuer, iss.audience)), 'ERR_ALG');
    await rejects(rawJwt({ ...h, alg: 'None' }, defaultClaims(iss.issuer, iss.audience)), 'ERR_ALG');
  });

  it('refuses HS256 signed with the public key (key confusion)', async () => {
    const k = iss.keys[0]!;
    const pem = await exportSPKI(k.publicKey);
    const jwkJson = JSON.stringify(k.publicJwk);
    for (const secret of [pem, jwkJson, createPublicKey(pem).export({ format: 'der', type: 'spki' })]) {
      const header = { alg: 'HS256', typ: 'at+jwt', kid: k.kid };
      const unsigned = rawJwt(header, defaultClaims(iss.issuer, iss.audience)).slice(0, -1);
      const sig = createHmac('sha256', secret).update(unsigned).digest('base64url');
      await rejects(`${unsigned}.${sig}`, 'ERR_ALG');
    }
  });

  it('refuses a token signed by an attacker key that names a valid kid', async () => {
    const attacker = await newKey('ES256', iss.keys[0]!.kid);
    await rejects(await iss.sign({}, {}, attacker), 'ERR_SIGNATURE');
  });

  it('refuses an embedded jwk header, and never contacts a jku / x5u URL', async () => {
    const attacker = await newKey('ES256', iss.keys[0]!.kid);
    await rejects(await iss.sign({}, { jwk: attacker.publicJwk }, attacker), 'ERR_EMBEDDED_KEY');
    await rejects(await iss.sign({}, { jku: `${canary.url}/jwks` }, attacker), 'ERR_EMBEDDED_KEY');
    await rejects(await iss.sign({}, { x5u: `${canary.url}/cert.pem` }, attacker), 'ERR_EMBEDDED_KEY');
    await rejects(await iss.sign({}, { x5c: ['MIIB'] }, attacker), 'ERR_EMBEDDED_KEY');
    // even when signed by the genuine key: a token that points elsewhere is refused
    await rejects(await iss.sign({}, { jku: `${canary.url}/jwks` }), 'ERR_EMBEDDED_KEY');
    await rejects(await iss.sign({}, { jwk: iss.keys[0]!.publicJwk }), 'ERR_EMBEDDED_KEY');
    // with an unknown kid too (no refetch path either)
    await rejects(await iss.sign({}, { kid: 'nope', jku: `${canary.url}/jwks` }, attacker), 'ERR_EMBEDDED_KEY');
    expect(canary.hits()).toBe(0);
  });

  it('refuses a tampered payload and a stripped signature', async () => {
    const [h, p, s] = parts(await iss.sign({ scope: 'outbreaks:read' }));
    const tampered = Buffer.from(JSON.stringify({ ...decodePart(p), scope: 'outbreaks:read simulate:run admin:all' })).toString('base64url');
    await rejects(`${h}.${tampered}.${s}`, 'ERR_SIGNATURE');
    await rejects(`${h}.${p}.`, 'ERR_SIGNATURE');
    await rejects(`${h}.${p}`, 'ERR_MALFORMED');
    await rejects(`${h}.${p}.${s.slice(0, -4)}`, 'ERR_SIGNATURE');
  });

  it('refuses expired tokens and tokens not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejects(await iss.sign({ exp: now - 60, iat: now - 660 }), 'ERR_TOKEN_EXPIRED');
    await rejects(await iss.sign({ nbf: now + 60 }), 'ERR_NBF');
  });

  it('refuses a wrong or missing typ', async () => {
    await rejects(await iss.sign({}, { typ: 'JWT' }), 'ERR_TYP');
    await rejects(await iss.sign({}, { typ: 'id_token+jwt' }), 'ERR_TYP');
    const token = await new SignJWT(defaultClaims(iss.issuer, iss.audience))
      .setProtectedHeader({ alg: 'ES256', kid: iss.keys[0]!.kid })
      .sign(iss.keys[0]!.privateKey);
    await rejects(token, 'ERR_TYP');
  });

  it('refuses a wrong issuer (without fetching anything) and a wrong audience', async () => {
    await verifier.verify(await iss.sign()); // keys cached
    const before = { ...iss.counts };
    await rejects(await iss.sign({ iss: 'https://evil.example/t/demo' }), 'ERR_ISSUER');
    await rejects(await iss.sign({ iss: `${iss.issuer}/` }), 'ERR_ISSUER');
    const foreign = await newKey();
    await rejects(await iss.sign({ iss: 'https://evil.example/t/demo' }, {}, foreign), 'ERR_ISSUER');
    await rejects(await iss.sign({ aud: 'https://other.example/api' }), 'ERR_AUDIENCE');
    await rejects(await iss.sign({ aud: undefined }), 'ERR_AUDIENCE');
    expect(iss.counts).toEqual(before);
  });

  it('refuses crit headers', async () => {
    const k = iss.keys[0]!;
    const claims = defaultClaims(iss.issuer, iss.audience);
    await rejects(await signRawES256({ alg: 'ES256', typ: 'at+jwt', kid: k.kid, crit: ['exp'], exp: 1 }, claims, k), 'ERR_CRIT');
    await rejects(await signRawES256({ alg: 'ES256', typ: 'at+jwt', kid: k.kid, crit: ['urn:x'], 'urn:x': 1 }, claims, k), 'ERR_CRIT');
    await rejects(await signRawES256({ alg: 'ES256', typ: 'at+jwt', kid: k.kid, crit: [] }, claims, k), 'ERR_CRIT');
    // sanity: the raw signer produces tokens that verify without crit
    await expect(verifier.verify(await signRawES256({ alg: 'ES256', typ: 'at+jwt', kid: k.kid }, claims, k))).resolves.toBeTruthy();
    await rejects(await iss.sign({}, { crit: ['b64'], b64: true }), 'ERR_CRIT');
  });

  it('refuses algorithms outside the allowlist and a key used with another alg', async () => {
    const es384 = await newKey('ES384');
    iss.keys.push(es384);
    try {
      await rejects(await iss.sign({}, {}, es384), 'ERR_ALG');
      const strict = createVerifier({ issuer: iss.issuer, audience: iss.audience, algorithms: ['RS256'] });
      await expect(strict.verify(await iss.sign())).rejects.toMatchObject({ code: 'ERR_ALG' });
    } finally {
      iss.keys.pop();
    }
  });

  it('refuses missing kid, missing RFC 9068 claims and non-string tokens', async () => {
    await rejects(await iss.sign({}, { kid: undefined }), 'ERR_KID_UNKNOWN');
    await rejects(await iss.sign({ jti: undefined }), 'ERR_CLAIM_MISSING');
    await rejects(await iss.sign({ exp: undefined }), 'ERR_CLAIM_MISSING');
    await rejects(await iss.sign({ client_id: undefined }), 'ERR_CLAIM_MISSING');
    await rejects(await iss.sign({ sub: 42 } as never), 'ERR_MALFORMED');
    await rejects(await iss.sign({ exp: 'soon' } as never), 'ERR_MALFORMED');
    await rejects('', 'ERR_MALFORMED');
    await rejects('not.a.jwt', 'ERR_MALFORMED');
    await rejects('x'.repeat(20_000), 'ERR_MALFORMED');
    await rejects(undefined as unknown as string, 'ERR_MALFORMED');
  });

  it('honours requiredClaims', async () => {
    const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, requiredClaims: ['tenant_id'] });
    await expect(v.verify(await iss.sign())).resolves.toBeTruthy();
    await expect(v.verify(await iss.sign({ tenant_id: undefined }))).rejects.toMatchObject({ code: 'ERR_CLAIM_MISSING', claim: 'tenant_id' });
  });

  it('validates its options', () => {
    expect(() => createVerifier({ audience: 'a' })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'http://idp.example/t/a', audience: 'a' })).toThrow(/https/);
    expect(() => createVerifier({ issuer: iss.issuer, audience: '' })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: iss.issuer, audience: 'a', algorithms: ['HS256' as never] })).toThrow(/HMAC/);
    expect(() => createVerifier({ issuer: iss.issuer, audience: 'a', algorithms: ['none' as never] })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: iss.issuer, audience: 'a', clockToleranceSec: -1 })).toThrow(TypeError);
  });
});

describe('several issuers', () => {
  let other: FakeIssuer;
  beforeAll(async () => {
    other = await startFakeIssuer({ path: '/t/other', alg: 'EdDSA' });
  });
  afterAll(() => other?.close());

  it('checks each token against the keys of the issuer it names, and only configured issuers', async () => {
    const both = createVerifier({ issuers: [iss.issuer, other.issuer], audience: [iss.audience, other.audience] });
    await expect(both.verify(await iss.sign())).resolves.toMatchObject({ payload: { iss: iss.issuer } });
    await expect(both.verify(await other.sign())).resolves.toMatchObject({ payload: { iss: other.issuer }, protectedHeader: { alg: 'EdDSA' } });
    // iss says "other" but signed with the first issuer's key (whose kid other does not publish)
    await expect(both.verify(await iss.sign({ iss: other.issuer }))).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN' });
    // the kid of the other issuer's key, signed by the first issuer's key
    await expect(both.verify(await iss.sign({ iss: other.issuer }, { kid: other.keys[0]!.kid }))).rejects.toMatchObject({ code: 'ERR_ALG' });
    await expect(both.verify(await iss.sign({ iss: 'https://evil.example' }))).rejects.toMatchObject({ code: 'ERR_ISSUER' });

    const onlyOther = createVerifier({ issuer: other.issuer, audience: iss.audience });
    const jwksBefore = other.counts.jwks;
    await expect(onlyOther.verify(await iss.sign())).rejects.toMatchObject({ code: 'ERR_ISSUER' });
    expect(other.counts.jwks).toBe(jwksBefore);
  });
});
