/**
 * A local issuer for verifier tests: node:http on 127.0.0.1, port 0, serving discovery, a JWKS
 * and an introspection endpoint, with request counters and switchable failure modes. Signs
 * tokens with a jose-generated key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKey(alg = 'ES256', kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export interface FakeIssuer {
  readonly origin: string;
  readonly issuer: string;
  readonly audience: string;
  /** the published keys (mutable: push/splice to rotate) */
  readonly keys: SigningKey[];
  readonly counts: { discovery: number; jwks: number; introspection: number; other: number };
  /** 'ok', or every request answers 500, or the server hangs up */
  mode: 'ok' | 'error';
  /** jtis the introspection endpoint reports inactive */
  readonly revoked: Set<string>;
  /** the Authorization headers the introspection endpoint received */
  readonly introspectionAuth: string[];
  /** signs a token with keys[0] (or `key`); claims and header override the defaults */
  sign(claims?: JWTPayload, header?: Partial<JWTHeaderParameters>, key?: SigningKey): Promise<string>;
  close(): Promise<void>;
}

export function defaultClaims(issuer: string, audience: string): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    sub: 'client-1',
    aud: audience,
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    client_id: 'client-1',
    scope: 'outbreaks:read simulate:run',
    roles: ['analyst'],
    tenant_id: 'demo',
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

export async function startFakeIssuer(opts: { path?: string; alg?: string } = {}): Promise<FakeIssuer> {
  const key = await newKey(opts.alg ?? 'ES256');
  const counts = { discovery: 0, jwks: 0, introspection: 0, other: 0 };
  const revoked = new Set<string>();
  const introspectionAuth: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let issuer = '';
  let origin = '';

  const state = { mode: 'ok' as 'ok' | 'error' };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', origin).pathname;
      const base = new URL(issuer).pathname.replace(/\/$/, '');
      if (path === `${base}/.well-known/openid-configuration`) counts.discovery++;
      else if (path === `${base}/jwks`) counts.jwks++;
      else if (path === `${base}/introspect`) counts.introspection++;
      else counts.other++;
      if (state.mode === 'error') return send(res, 500, { error: 'server_error' });
      if (path === `${base}/.well-known/openid-configuration`) {
        return send(res, 200, { issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect` });
      }
      if (path === `${base}/jwks`) return send(res, 200, { keys: fake.keys.map((k) => k.publicJwk) });
      if (path === `${base}/introspect` && req.method === 'POST') {
        introspectionAuth.push(req.headers.authorization ?? '');
        const form = new URLSearchParams(await readBody(req));
        const token = form.get('token') ?? '';
        const jti = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { jti?: string }).jti ?? '';
        return send(res, 200, revoked.has(jti) ? { active: false } : { active: true, jti });
      }
      return send(res, 404, { error: 'not_found' });
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${origin}${opts.path ?? '/t/demo'}`;
  const audience = 'https://api.example.test/epi';

  const fake: FakeIssuer = {
    origin,
    issuer,
    audience,
    keys: [key],
    counts,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    revoked,
    introspectionAuth,
    async sign(claims = {}, header = {}, signWith) {
      const k = signWith ?? fake.keys[0]!;
      return new SignJWT({ ...defaultClaims(issuer, audience), ...claims })
        .setProtectedHeader({ alg: k.alg, typ: 'at+jwt', kid: k.kid, ...header } as JWTHeaderParameters)
        .sign(k.privateKey);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** a local server that must never be contacted (jku / x5u targets); counts every request */
export async function startCanary(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** signs arbitrary header/payload bytes with an ES256 key, bypassing jose's header validation */
export async function signRawES256(header: object, payload: object, key: SigningKey): Promise<string> {
  const unsigned = rawJwt(header, payload).slice(0, -1);
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(unsigned));
  return `${unsigned}.${Buffer.from(sig).toString('base64url')}`;
}

/** builds a compact JWS from raw parts (for alg none, stripped signatures and tampering) */
export function rawJwt(header: object, payload: object, signature = ''): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(header)}.${enc(payload)}.${signature}`;
}
