/**
 * Shared set-up of the security tests: a running Tessera with a health department built through
 * the admin API (as an operator would), and a browser sign-in driven over plain HTTP that reports
 * what the user ends up with: a code, an error sent back to the application, or the consent page.
 */
import { randomBytes } from 'node:crypto';
import { CookieJar, pkcePair } from '../browser/http-flow.ts';
import { ADMIN_PASSWORD, startTestServer, type Backend, type TestServer } from '../helpers/tessera.ts';
import { discover, tokenRequest } from '../helpers/oauth.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';

export { CookieJar, pkcePair };

export const API = 'https://epi.example.org/api';
export const PASSWORDS = {
  boss: 'boss-of-the-department',
  alice: 'alice-correct-horse',
  victor: 'victor-battery-staple',
  nora: 'nora-has-no-roles-at-all',
} as const;
export type StaffName = keyof typeof PASSWORDS;

export interface Dept {
  server: TestServer;
  url: string;
  tenantId: string;
  disco: Record<string, string>;
  platform: ReturnType<typeof adminClient>;
  boss: ReturnType<typeof adminClient>;
  users: Record<StaffName, string>;
  /** confidential staff app: password + refresh_token, default resource API */
  webapp: { clientId: string; clientSecret: string };
  /** confidential client for introspection */
  introspector: { clientId: string; clientSecret: string };
  /** public code-flow client (third party: consent is shown) at `SPA` */
  spa: { clientId: string };
  machine: { clientId: string; clientSecret: string };
}

export const SPA = 'http://127.0.0.1:9/spa/';

export async function startDept(backend: Backend, env: Record<string, string> = {}): Promise<Dept> {
  const server = await startTestServer(backend, env);
  const url = server.url;
  const platform = adminClient(url, await adminToken(url, 'system', 'admin', ADMIN_PASSWORD));
  const must = async (p: Promise<{ status: number; body: Record<string, unknown> }>, status = 201) => {
    const res = await p;
    if (res.status !== status) throw new Error(`set-up call answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await must(platform('POST', '/tenants', { slug: 'dept', name: 'Department of Health', admin: { username: 'boss', password: PASSWORDS.boss } }));
  const boss = adminClient(url, await adminToken(url, 'dept', 'boss', PASSWORDS.boss));
  await must(boss('POST', '/tenants/dept/resources', { audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'] }));
  await must(
    boss('POST', '/tenants/dept/roles', {
      name: 'analyst',
      permissions: [
        { resource: API, scope: 'outbreaks:read' },
        { resource: API, scope: 'simulate:run' },
      ],
    }),
  );
  await must(boss('POST', '/tenants/dept/roles', { name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] }));
  const alice = await must(
    boss('POST', '/tenants/dept/users', { username: 'alice', password: PASSWORDS.alice, email: 'alice@dept.example', roles: ['analyst', 'viewer'] }),
  );
  const victor = await must(boss('POST', '/tenants/dept/users', { username: 'victor', password: PASSWORDS.victor, roles: ['viewer'] }));
  const nora = await must(boss('POST', '/tenants/dept/users', { username: 'nora', password: PASSWORDS.nora, roles: [] }));
  const users = (await must(boss('GET', '/tenants/dept/users'), 200)).items as { id: string; username: string }[];
  const webapp = await must(boss('POST', '/tenants/dept/clients', { name: 'staff app', grantTypes: ['password', 'refresh_token'], defaultResource: API }));
  const introspector = await must(boss('POST', '/tenants/dept/clients', { name: 'simulate api', grantTypes: ['client_credentials'], defaultResource: API }));
  const machine = await must(
    boss('POST', '/tenants/dept/clients', { name: 'nightly', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API }),
  );
  const spa = await must(
    boss('POST', '/tenants/dept/clients', {
      name: 'Dashboard',
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [SPA],
      defaultResource: API,
    }),
  );
  const tenantId = (await server.tessera.db.prisma.tenant.findUniqueOrThrow({ where: { slug: 'dept' } })).id;
  return {
    server,
    url,
    tenantId,
    disco: await discover(url, 'dept'),
    platform,
    boss,
    users: {
      alice: alice.id as string,
      victor: victor.id as string,
      nora: nora.id as string,
      boss: users.find((u) => u.username === 'boss')!.id,
    },
    webapp: webapp as Dept['webapp'],
    introspector: introspector as Dept['introspector'],
    machine: machine as Dept['machine'],
    spa: spa as Dept['spa'],
  };
}

/** the password grant at the tenant's token endpoint */
export const passwordGrant = (
  d: Dept,
  username: StaffName | string,
  password: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) => tokenRequest(d.disco.token_endpoint!, { grant_type: 'password', username, password, ...extra }, d.webapp, headers);

export const introspect = (d: Dept, token: string) => tokenRequest(d.disco.introspection_endpoint!, { token }, d.introspector);

export interface BrowseOptions {
  clientId: string;
  redirectUri: string;
  username: string;
  password: string;
  scope: string;
  resource?: string;
  challenge?: string;
  /** stop at the consent page instead of allowing */
  stopAtConsent?: boolean;
  jar?: CookieJar;
}

export interface BrowseResult {
  code?: string;
  error?: string;
  consentPage?: string;
  /** pages seen on the way (HTML) */
  pages: string[];
  jar: CookieJar;
}

/** /auth → login → consent → back at the application, as a browser without JavaScript would */
export async function browse(d: Dept, o: BrowseOptions): Promise<BrowseResult> {
  const jar = o.jar ?? new CookieJar();
  const pages: string[] = [];
  const url = new URL(d.disco.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    scope: o.scope,
    state: randomBytes(6).toString('base64url'),
    code_challenge: o.challenge ?? pkcePair().challenge,
    code_challenge_method: 'S256',
    ...(o.resource ? { resource: o.resource } : {}),
  }).toString();
  const go = async (target: string, form?: Record<string, string>) => {
    const res = await fetch(target, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(), accept: 'text/html', ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    jar.store(res);
    return res;
  };
  let res = await go(url.href);
  for (let hop = 0; hop < 12; hop++) {
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(o.redirectUri)) {
        const code = next.searchParams.get('code') ?? undefined;
        const error = next.searchParams.get('error') ?? undefined;
        return { ...(code ? { code } : {}), ...(error ? { error } : {}), pages, jar };
      }
      res = await go(next.href);
      continue;
    }
    const html = await res.text();
    pages.push(html);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]!);
    const action = (suffix: string) => actions.find((a) => a.endsWith(suffix));
    if (csrf && html.includes('name="password"')) {
      res = await go(new URL(action('/login')!, url).href, { csrf, username: o.username, password: o.password });
      continue;
    }
    if (csrf && action('/confirm')) {
      if (o.stopAtConsent) return { consentPage: html, pages, jar };
      res = await go(new URL(action('/confirm')!, url).href, { csrf });
      continue;
    }
    throw new Error(`unexpected page (${res.status}) during sign-in: ${html.slice(0, 300)}`);
  }
  throw new Error('too many redirects');
}

export const redeem = (d: Dept, clientId: string, redirectUri: string, code: string, verifier: string) =>
  tokenRequest(d.disco.token_endpoint!, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier });
