/**
 * The ready middleware over real HTTP (127.0.0.1:0): Koa, and Express-style (req, res, next)
 * driven by node:http. 401 with `WWW-Authenticate: Bearer error="invalid_token"`, 403 with
 * `error="insufficient_scope"`, claims on ctx.state.auth / req.auth.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  expressAuth,
  expressRequire,
  koaAuth,
  koaRequire,
  type ExpressRequestLike,
  type KoaAuthState,
  type Verifier,
} from '../../src/verifier/index.ts';
import { startFakeIssuer, type FakeIssuer } from './support/fake-issuer.ts';

let iss: FakeIssuer;
let verifier: Verifier;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  iss = await startFakeIssuer();
  verifier = createVerifier({ issuer: iss.issuer, audience: iss.audience });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await iss?.close();
});

const call = (url: string, token?: string, method = 'GET') =>
  fetch(url, { method, headers: token === undefined ? {} : { authorization: token.includes(' ') ? token : `Bearer ${token}` } });

/** the behaviour both middlewares must show, given a base URL with /read and /simulate */
function suite(name: string, base: () => string) {
  describe(name, () => {
    it('puts the verified claims on the request', async () => {
      const res = await call(`${base()}/read`, await iss.sign());
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ sub: 'client-1', tenant_id: 'demo' });
    });

    it('answers 401 without an error code when there is no token', async () => {
      for (const auth of [undefined, 'Basic Zm9vOmJhcg==']) {
        const res = await call(`${base()}/read`, auth);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="epi"');
      }
    });

    it('answers 401 invalid_token for a bad token', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const token of [await iss.sign({ exp: now - 100 }), await iss.sign({ aud: 'x' }), 'a.b.c', 'Bearer  two parts']) {
        const res = await call(`${base()}/read`, token);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="epi", error="invalid_token", error_description="[^"]+"$/);
        expect(await res.json()).toMatchObject({ error: 'invalid_token' });
      }
    });

    it('answers 403 insufficient_scope for a missing scope or role', async () => {
      const noScope = await call(`${base()}/simulate`, await iss.sign({ scope: 'outbreaks:read' }), 'POST');
      expect(noScope.status).toBe(403);
      expect(noScope.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      expect(noScope.headers.get('www-authenticate')).toMatch(/scope="simulate:run"/);
      expect(await noScope.json()).toMatchObject({ error: 'insufficient_scope', code: 'ERR_INSUFFICIENT_SCOPE' });

      const noRole = await call(`${base()}/simulate`, await iss.sign({ roles: ['viewer'] }), 'POST');
      expect(noRole.status).toBe(403);
      expect(noRole.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      expect(await noRole.json()).toMatchObject({ code: 'ERR_INSUFFICIENT_ROLE' });

      const ok = await call(`${base()}/simulate`, await iss.sign(), 'POST');
      expect(ok.status).toBe(200);
    });
  });
}

let koaUrl = '';
let expressUrl = '';
beforeAll(async () => {
  const app = new Koa<KoaAuthState>();
  const needs = koaRequire({ roles: ['analyst'], scopes: ['simulate:run'], realm: 'epi' });
  app.use(koaAuth(verifier, { scopes: ['outbreaks:read'], realm: 'epi' }));
  app.use(async (ctx, next) => {
    if (ctx.path === '/simulate') return needs(ctx, next);
    return next();
  });
  app.use((ctx) => {
    ctx.body = ctx.state.auth;
  });
  koaUrl = await listen(createServer(app.callback()));

  // Express-style chain on plain node:http: auth → (per route) require → handler
  const auth = expressAuth(verifier, { scopes: ['outbreaks:read'], realm: 'epi' });
  const requireAnalyst = expressRequire({ roles: ['analyst'], scopes: ['simulate:run'], realm: 'epi' });
  const handler = (req: IncomingMessage & ExpressRequestLike, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.auth));
  };
  expressUrl = await listen(
    createServer((req: IncomingMessage & ExpressRequestLike, res) => {
      const fail = (err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      };
      auth(req, res, (err) => {
        if (err) return fail(err);
        if (req.url === '/simulate') return requireAnalyst(req, res, (e) => (e ? fail(e) : handler(req, res)));
        handler(req, res);
      });
    }),
  );
});

suite('koa middleware', () => koaUrl);
suite('express middleware', () => expressUrl);
