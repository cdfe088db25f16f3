/**
 * A health department on a real server, as the sign-in, token and tenant tests use it:
 * `startDept()` creates the tenant `dept` with the API `API` (scopes outbreaks:read,
 * simulate:run), the roles `analyst` (both) and `viewer` (read), the users `alice` (analyst) and
 * `victor` (viewer) with `PASSWORDS`, a first-party SPA (`SPA_REDIRECT`, code + refresh), a
 * third-party partner app (`PARTNER_REDIRECT`, code, asks for consent), two confidential staff apps
 * (password + refresh) and a `client_credentials` job holding `viewer`; `Dept` names each. Also: a browser driven over plain HTTP step by step (every
 * Set-Cookie kept), and DB time travel on oidc-provider's stored artifacts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Tessera } from '../../src/app.ts';
import type { Services, TenantServices } from '../../src/services/index.ts';
import { CookieJar, pkcePair } from '../browser/http-flow.ts';
import { startTestServer, type Backend, type TestServer } from './tessera.ts';

export { requiredUrl } from './backends.ts';

export const API = 'https://epi.example.org/api';
export const SPA_REDIRECT = 'https://spa.example.org/cb';
export const PARTNER_REDIRECT = 'https://partner.example.net/cb';
export const PASSWORDS = { alice: 'alice-correct-horse', victor: 'victor-battery-staple' };

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export interface Dept {
  server: TestServer;
  tessera: Tessera;
  tenantId: string;
  /** where the server really listens: http://127.0.0.1:<port> */
  local: string;
  /** PUBLIC_URL */
  publicUrl: string;
  issuer: string;
  /** the discovery document as served */
  discovery: Record<string, string>;
  /** an advertised URL, rewritten to the loopback address */
  localize(url: string): string;
  endpoint(name: string): string;
  users: { alice: string; victor: string };
  /** first-party public SPA (code + refresh), redirect SPA_REDIRECT */
  spa: { clientId: string; redirectUri: string };
  /** third-party public app (code), redirect PARTNER_REDIRECT: asks for consent */
  partner: { clientId: string; redirectUri: string };
  /** confidential clients with the password and refresh_token grants */
  webapp: Credentials;
  other: Credentials;
  /** confidential client_credentials client */
  machine: Credentials;
  stop(): Promise<void>;
}

/** the tenant `dept` with the API `API` (outbreaks:read, simulate:run), and the roles `analyst` (both scopes) and `viewer` (read) */
export async function seedDepartment(services: Services): Promise<{ tenant: { id: string }; s: TenantServices }> {
  const tenant = await services.tenants.create({ slug: 'dept', name: 'Department of Health' });
  const s = services.forTenant(tenant.id);
  await s.resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'] });
  await s.roles.create({
    name: 'analyst',
    permissions: [
      { resource: API, scope: 'outbreaks:read' },
      { resource: API, scope: 'simulate:run' },
    ],
  });
  await s.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
  return { tenant, s };
}

export async function startDept(backend: Backend, env: Record<string, string> = {}): Promise<Dept> {
  const server = await startTestServer(backend, env);
  try {
    const { tessera } = server;
    const local = `http://127.0.0.1:${tessera.port}`;
    const publicUrl = tessera.publicUrl;
    const { services } = tessera;
    const { tenant: t, s } = await seedDepartment(services);
    const alice = await s.users.create({ username: 'alice', password: PASSWORDS.alice, email: 'alice@dept.example', roles: ['analyst'] });
    const victor = await s.users.create({ username: 'victor', password: PASSWORDS.victor, roles: ['viewer'] });
    const spa = await s.clients.create({
      name: 'Epidemic dashboard',
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [SPA_REDIRECT],
      tokenEndpointAuthMethod: 'none',
      defaultResource: API,
      firstParty: true,
    });
    const partner = await s.clients.create({
      name: 'Partner Analytics',
      grantTypes: ['authorization_code'],
      redirectUris: [PARTNER_REDIRECT],
      tokenEndpointAuthMethod: 'none',
      defaultResource: API,
    });
    const webapp = (await s.clients.create({ name: 'staff app', grantTypes: ['password', 'refresh_token'], defaultResource: API })) as Credentials;
    const other = (await s.clients.create({ name: 'other app', grantTypes: ['password', 'refresh_token'], defaultResource: API })) as Credentials;
    const machine = (await s.clients.create({ name: 'nightly', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API })) as Credentials;
    const issuer = `${publicUrl}/t/dept`;
    const localize = (url: string) => (url.startsWith(publicUrl) ? local + url.slice(publicUrl.length) : url);
    const res = await fetch(`${local}/t/dept/.well-known/openid-configuration`);
    if (res.status !== 200) throw new Error(`discovery answered ${res.status}`);
    const discovery = (await res.json()) as Record<string, string>;
    return {
      server,
      tessera,
      tenantId: t.id,
      local,
      publicUrl,
      issuer,
      discovery,
      localize,
      endpoint: (name) => {
        const url = discovery[name];
        if (!url) throw new Error(`discovery has no ${name}`);
        return localize(url);
      },
      users: { alice: alice.id, victor: victor.id },
      spa: { clientId: spa.clientId, redirectUri: SPA_REDIRECT },
      partner: { clientId: partner.clientId, redirectUri: PARTNER_REDIRECT },
      webapp,
      other,
      machine,
      stop: () => server.stop(),
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** where the browser ended up: a page of the server, or a redirect to the client */
export type Step = { kind: 'page'; status: number; html: string; headers: Headers; url: string } | { kind: 'redirect'; location: URL; headers: Headers };

/** a browser over plain HTTP: a cookie jar, redirects followed by hand, every Set-Cookie line kept */
export class Browser {
  readonly jar = new CookieJar();
  readonly setCookies: string[] = [];
  readonly pkce = pkcePair();
  /** `address`: the client address it claims (X-Forwarded-For; the server must trust the proxy) */
  constructor(
    private readonly d: Pick<Dept, 'localize' | 'endpoint'>,
    private readonly address?: string,
  ) {}

  private async send(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(this.d.localize(url), {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        cookie: this.jar.header(),
        accept: 'text/html',
        ...(this.address ? { 'x-forwarded-for': this.address } : {}),
      },
    });
    this.jar.store(res);
    this.setCookies.push(...res.headers.getSetCookie());
    return res;
  }

  /** follows redirects until a page of the server or a redirect that leaves for `clientRedirect` */
  async follow(res: Response, base: string, clientRedirect: string): Promise<Step> {
    let current = res;
    let url = base;
    for (let hops = 0; hops < 10; hops++) {
      const location = current.headers.get('location');
      if (current.status >= 300 && current.status < 400 && location) {
        const next = new URL(location, url);
        if (next.href.startsWith(clientRedirect)) return { kind: 'redirect', location: next, headers: current.headers };
        url = next.href;
        current = await this.send(url);
        continue;
      }
      return { kind: 'page', status: current.status, html: await current.text(), headers: current.headers, url };
    }
    throw new Error('too many redirects');
  }

  authorizationUrl(client: { clientId: string; redirectUri: string }, scope: string, state: string): string {
    const url = new URL(this.d.endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope,
      state,
      code_challenge: this.pkce.challenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  /** opens `url` (a GET) and follows it to a page of the server or a redirect to `clientRedirect` */
  async open(url: string, clientRedirect = 'https://nowhere.invalid/'): Promise<Step> {
    return this.follow(await this.send(url), url, clientRedirect);
  }

  /** posts `fields` as a form to `url` (no CSRF token added) */
  async post(url: string, fields: Record<string, string>, clientRedirect = 'https://nowhere.invalid/'): Promise<Step> {
    const res = await this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    return this.follow(res, url, clientRedirect);
  }

  /** starts an authorization request and follows it to a page or back to the client */
  async authorize(
    client: { clientId: string; redirectUri: string },
    scope = 'openid outbreaks:read',
    state = randomBytes(8).toString('base64url'),
  ): Promise<Step> {
    const url = this.authorizationUrl(client, scope, state);
    return this.follow(await this.send(url), url, client.redirectUri);
  }

  /** posts the form of `page` whose action ends with `/<action>` (its CSRF token included) */
  async submit(page: Extract<Step, { kind: 'page' }>, action: string, fields: Record<string, string>, clientRedirect: string): Promise<Step> {
    const target = formAction(page.html, action);
    const csrf = hiddenCsrf(page.html);
    const url = new URL(target, page.url).href;
    const res = await this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ...fields }),
    });
    return this.follow(res, url, clientRedirect);
  }

  /** authorization → login page → signed in → the client's redirect (first-party) or the consent page */
  async signIn(client: { clientId: string; redirectUri: string }, username: string, password: string, scope?: string): Promise<Step> {
    const login = expectPage(await this.authorize(client, scope), 'login');
    return this.submit(login, 'login', { username, password }, client.redirectUri);
  }
}

export function formAction(html: string, action: string): string {
  const m = new RegExp(`<form method="post" action="([^"]+/${action})"`).exec(html);
  if (!m) throw new Error(`no form posting to …/${action} on this page`);
  return m[1]!.replace(/&amp;/g, '&');
}

export function hiddenCsrf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on this page');
  return m[1]!;
}

/** the step must be the login page (`login`) or the consent page (`consent`) */
export function expectPage(step: Step, which: 'login' | 'consent'): Extract<Step, { kind: 'page' }> {
  if (step.kind !== 'page') throw new Error(`expected the ${which} page, got a redirect to ${step.location.href}`);
  const marker = which === 'login' ? 'name="password"' : 'Allow access?';
  if (step.status !== 200 || !step.html.includes(marker)) throw new Error(`expected the ${which} page, got ${step.status}: ${step.html.slice(0, 300)}`);
  return step;
}

/** the redirect back to the client */
export function expectRedirect(step: Step): URL {
  if (step.kind !== 'redirect') throw new Error(`expected a redirect to the client, got a ${step.status} page: ${step.html.slice(0, 300)}`);
  return step.location;
}

/** the key oidc-provider artifacts are stored under (SHA-256 of the value, see oidc/adapters/sql.ts) */
export const artifactId = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

export interface StoredArtifact {
  payload: Record<string, unknown>;
  expiresAt: Date | null;
}

export async function readArtifact(tessera: Tessera, tenantId: string, model: string, value: string): Promise<StoredArtifact | undefined> {
  const rows = await tessera.db.prisma.$queryRawUnsafe<{ payload: Record<string, unknown>; expires_at: Date | null }[]>(
    'SELECT payload, expires_at FROM oidc_artifacts WHERE tenant_id = $1::uuid AND model = $2 AND id = $3',
    tenantId,
    model,
    artifactId(value),
  );
  const row = rows[0];
  return row && { payload: row.payload, expiresAt: row.expires_at === null ? null : new Date(row.expires_at) };
}

/**
 * Time travel: makes a stored artifact `seconds` older, as if it had been issued that long ago
 * (its row's expiry and the payload's `iat`/`exp`, which oidc-provider checks itself, all move
 * back; a session's `loginTs`, the time of its sign-in, too). Resolves with the number of rows changed.
 */
export async function ageArtifact(tessera: Tessera, tenantId: string, model: string, value: string, seconds: number): Promise<number> {
  const where = 'WHERE tenant_id = $1::uuid AND model = $2 AND id = $3';
  const args = [tenantId, model, artifactId(value), seconds] as const;
  const changed = await tessera.db.prisma.$executeRawUnsafe(
    `UPDATE oidc_artifacts SET
       expires_at = expires_at - make_interval(secs => $4::int),
       payload = jsonb_set(jsonb_set(payload, '{iat}', to_jsonb((payload->>'iat')::bigint - $4::int)),
                           '{exp}', to_jsonb((payload->>'exp')::bigint - $4::int))
     ${where}`,
    ...args,
  );
  await tessera.db.prisma.$executeRawUnsafe(
    `UPDATE oidc_artifacts SET payload = jsonb_set(payload, '{loginTs}', to_jsonb((payload->>'loginTs')::bigint - $4::int))
     ${where} AND payload->>'loginTs' IS NOT NULL`,
    ...args,
  );
  return changed;
}

/** the value of `name` from a cookie jar's Set-Cookie lines (the last one set) */
export function lastSetCookie(lines: string[], name: string): string | undefined {
  return lines.filter((l) => l.startsWith(`${name}=`)).at(-1);
}

/** waits until `fn` is true (polling), failing with `what` after `timeoutMs` */
export async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
