/**
 * Never a 5xx on bad input (issue 13, "beyond the list"), as properties checked with fast-check:
 * random, malformed, oversized, Unicode and control-character input — including bytes that are not
 * UTF-8 — at the token, introspection, revocation, authorization and interaction endpoints and at
 * every admin route. Every answer is a standard 4xx in the surface's own format (RFC 6749 JSON,
 * RFC 9457 problem+json, an HTML page or an error redirect), nothing is written, and no database
 * error is counted. A failing case is shrunk and printed by fast-check with its seed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/tessera.ts';
import { startDept, type Dept } from './support.ts';

/** strings an attacker would try: Unicode, controls, NUL, lone surrogates, oversized, encodings */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u0007',
    '\u001b[31m',
    '\ud800',
    '\udfff',
    '%00',
    '%ff',
    '../..',
    '%2e%2e%2f',
    "' OR 1=1 --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as it is
    '${7*7}',
    '{{7*7}}',
    '<script>',
    'Ǆ',
    'İ',
    '\u202e',
    'admin',
    'system',
    '*',
  ),
  fc.integer({ min: 300, max: 70_000 }).map((n) => 'x'.repeat(n)),
);
/** raw form bytes, percent-encoded one by one: any byte sequence, UTF-8 or not */
const rawBytes = fc.uint8Array({ maxLength: 60 }).map((a) => [...a].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
/** percent-encoded as a browser would (lone surrogates, which UTF-8 cannot carry, become U+FFFD) */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
const formValue = fc.oneof(nasty.map(encode), rawBytes);

const OAUTH_KEYS = [
  'grant_type',
  'client_id',
  'client_secret',
  'username',
  'password',
  'scope',
  'resource',
  'refresh_token',
  'code',
  'code_verifier',
  'redirect_uri',
  'token',
  'token_type_hint',
  'audience',
  'otp',
];
const GRANTS = ['password', 'client_credentials', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange', 'implicit'];

/** a form body: some known keys (some repeated), random values, sometimes a junk key */
const formBody = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...OAUTH_KEYS), formValue), { maxLength: 8 }),
    fc.option(fc.constantFrom(...GRANTS)),
    fc.option(fc.tuple(rawBytes, formValue)),
  )
  .map(([pairs, grant, junk]) => {
    const parts = pairs.map(([k, v]) => `${k}=${v}`);
    if (grant) parts.push(`grant_type=${encodeURIComponent(grant)}`);
    if (junk) parts.push(`${junk[0]}=${junk[1]}`);
    return parts.join('&');
  });
const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
);
/** what HTTP lets a header carry (fetch refuses the rest before sending) */
const headerSafe = nasty.map((s) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 8000));
const authorization = fc.option(
  fc.oneof(
    fc.tuple(nasty, nasty).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
    headerSafe.map((s) => `Basic ${s}`),
    headerSafe.map((s) => `Bearer ${s}`),
  ),
);

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
/** FUZZ_SEED reproduces a failing run (fast-check prints the seed) */
const SEED = process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {};

describe.each(BACKENDS)('random and malformed input on %s', (backend) => {
  let d: Dept;
  let platformToken: string;
  beforeAll(async () => {
    d = await startDept(backend);
    const res = await fetch(`${d.url}/t/system/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'bootstrap-admin-password' }),
    });
    platformToken = ((await res.json()) as { access_token: string }).access_token;
  });
  afterAll(() => d?.server.stop());

  /** rows that no bad input may create, change or delete */
  const snapshot = async () => {
    const p = d.server.tessera.db.prisma;
    return JSON.stringify(
      await Promise.all([
        p.tenant.count(),
        p.user.findMany({ select: { id: true, username: true, disabled: true, passwordHash: true }, orderBy: { id: 'asc' } }),
        p.client.findMany({ select: { clientId: true, name: true, disabled: true, grantTypes: true, redirectUris: true }, orderBy: { id: 'asc' } }),
        p.role.findMany({ select: { name: true, description: true }, orderBy: { id: 'asc' } }),
        p.resource.findMany({ select: { audience: true, name: true, scopes: true, accessTokenTtl: true }, orderBy: { id: 'asc' } }),
        p.clientSecret.count(),
        p.signingKey.count(),
        p.userRole.count(),
        p.permission.count(),
        p.revokedGrant.count(),
        p.revokedSubject.count(),
      ]),
    );
  };
  const databaseErrors = async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    return Number(/tessera_dependency_errors_total\{dependency="database"\} (\d+)/.exec(text)?.[1]);
  };

  /** the answer is a 4xx (or what the protocol prescribes for garbage) in the surface's own format */
  function assertRefusal(res: Response, body: string, surface: 'oauth' | 'admin' | 'page', allow200 = false) {
    const context = `${res.status} ${body.slice(0, 200)}`;
    if (res.status === 200 && allow200) return;
    // Node's HTTP parser refuses oversized headers itself, before any of Tessera's code
    if (res.status === 431) return;
    if (surface === 'page' && (res.status === 303 || res.status === 302)) {
      // an error sent back to the application, never a code
      const location = new URL(res.headers.get('location')!, d.url);
      expect(location.searchParams.get('code'), context).toBeNull();
      return;
    }
    expect(res.status, context).toBeGreaterThanOrEqual(400);
    expect(res.status, context).toBeLessThan(500);
    const type = res.headers.get('content-type') ?? '';
    if (surface === 'admin') {
      expect(type, context).toContain('application/problem+json');
      expect(JSON.parse(body), context).toMatchObject({ type: expect.stringMatching(/^urn:tessera:problem:/), status: res.status });
    } else if (surface === 'oauth') {
      expect(type, context).toContain('application/json');
      expect(JSON.parse(body), context).toMatchObject({ error: expect.any(String) });
    } else {
      expect(type, context).toMatch(/text\/html|application\/json/);
    }
    expect(body, context).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace
  }

  const post = async (url: string, body: string, type: string, auth: string | null) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...(type ? { 'content-type': type } : {}), ...(auth ? { authorization: auth } : {}) },
      body,
      redirect: 'manual',
    });
    return { res, text: await res.text() };
  };

  it('token, introspection and revocation endpoints', async () => {
    const before = await snapshot();
    const errors = await databaseErrors();
    for (const [endpoint, allow200] of [
      [d.disco.token_endpoint!, false],
      [d.disco.introspection_endpoint!, true],
      [d.disco.revocation_endpoint!, true],
    ] as const) {
      await fc.assert(
        fc.asyncProperty(formBody, contentType, authorization, async (body, type, auth) => {
          const { res, text } = await post(endpoint, body, type, auth);
          // introspection answers {active:false} and revocation an empty 200 for tokens they do not know
          assertRefusal(res, text, 'oauth', allow200 && (text === '' || text === '{"active":false}'));
          if (res.status === 200 && endpoint === d.disco.introspection_endpoint) expect(JSON.parse(text)).toEqual({ active: false });
        }),
        { numRuns: RUNS, ...SEED },
      );
    }
    expect(await snapshot()).toBe(before);
    expect(await databaseErrors()).toBe(errors);
  });

  it('authorization and interaction endpoints', async () => {
    const before = await snapshot();
    const errors = await databaseErrors();
    const AUTH_KEYS = [
      'client_id',
      'response_type',
      'redirect_uri',
      'scope',
      'state',
      'nonce',
      'code_challenge',
      'code_challenge_method',
      'resource',
      'prompt',
      'max_age',
      'login_hint',
      'request',
      'request_uri',
      'claims',
      'ui_locales',
    ];
    const query = fc.array(fc.tuple(fc.constantFrom(...AUTH_KEYS), formValue), { maxLength: 10 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await fetch(`${d.disco.authorization_endpoint!}?${q}`, { redirect: 'manual', headers: { accept: 'text/html' } });
        assertRefusal(res, await res.text(), 'page');
      }),
      { numRuns: RUNS, ...SEED },
    );
    // interaction pages with random uids, actions and forms (no session: nothing to continue)
    const uid = fc.oneof(fc.stringMatching(/^[\w-]{1,64}$/), nasty.map(encode));
    await fc.assert(
      fc.asyncProperty(uid, fc.constantFrom('', '/login', '/confirm', '/abort', '/nope'), formBody, contentType, async (u, action, body, type) => {
        const url = `${d.url}/t/dept/interaction/${u}${action}`;
        if (action) {
          const { res, text } = await post(url, body, type, null);
          assertRefusal(res, text, 'page');
        } else {
          const res = await fetch(url, { redirect: 'manual' });
          assertRefusal(res, await res.text(), 'page');
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
    expect(await snapshot()).toBe(before);
    expect(await databaseErrors()).toBe(errors);
  });

  it('every admin route', async () => {
    const before = await snapshot();
    const errors = await databaseErrors();
    const api = async (method: string, path: string, body: string | undefined, type = 'application/json') => {
      const res = await fetch(`${d.url}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${platformToken}`, ...(body !== undefined ? { 'content-type': type } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      return { res, text: await res.text() };
    };
    // a valid body per route; the fuzzer always breaks it in at least one way that must be refused
    const users = (await api('GET', '/tenants/dept/users', undefined)).text;
    const userId = (JSON.parse(users) as { items: { id: string }[] }).items[0]!.id;
    const routes: [string, string, Record<string, unknown>][] = [
      ['POST', '/tenants', { slug: 'fuzz', name: 'Fuzz' }],
      ['POST', '/tenants/dept/resources', { audience: 'https://fuzz.example/', name: 'f', scopes: ['a'] }],
      ['PATCH', '/tenants/dept/resources/{resource}', { name: 'f' }],
      ['POST', '/tenants/dept/roles', { name: 'fuzz', permissions: [] }],
      ['PATCH', '/tenants/dept/roles/viewer', { description: 'f' }],
      ['POST', '/tenants/dept/users', { username: 'fuzz', password: 'a-long-enough-password', roles: [] }],
      ['PATCH', `/tenants/dept/users/${userId}`, { disabled: false }],
      ['POST', '/tenants/dept/clients', { name: 'fuzz', grantTypes: ['client_credentials'] }],
      ['PATCH', `/tenants/dept/clients/${d.machine.clientId}`, { name: 'nightly' }],
    ];
    const resources = JSON.parse((await api('GET', '/tenants/dept/resources', undefined)).text) as { items: { id: string; builtIn: boolean }[] };
    const resourceId = resources.items.find((r) => !r.builtIn)!.id;
    const breakBody = fc.oneof(
      // a field of the wrong type
      fc.tuple(fc.jsonValue(), fc.nat()).map(([junk, i]) => (valid: Record<string, unknown>) => {
        const key = Object.keys(valid)[i % Object.keys(valid).length]!;
        return JSON.stringify({ ...valid, [key]: wrongType(valid[key], junk) });
      }),
      // a string with a control character or an oversized one
      fc.tuple(nasty, fc.nat(), fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f')).map(([s, i, c]) => (valid: Record<string, unknown>) => {
        const key = Object.keys(valid)[i % Object.keys(valid).length]!;
        return JSON.stringify({ ...valid, [key]: `${s}${c}` });
      }),
      // an unknown member (the schemas are strict)
      fc.tuple(nasty, fc.jsonValue()).map(
        ([k, v]) =>
          (valid: Record<string, unknown>) =>
            JSON.stringify({ ...valid, [`x-${k}`]: v }),
      ),
      // not JSON at all, or not an object
      fc.oneof(nasty, rawBytes).map((s) => () => `{,${s}`),
      fc
        .jsonValue()
        .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
        .map((v) => () => JSON.stringify(v)),
    );
    for (const [method, template, valid] of routes) {
      const path = template.replace('{resource}', resourceId);
      await fc.assert(
        fc.asyncProperty(breakBody, async (broken) => {
          const { res, text } = await api(method, path, broken(valid));
          assertRefusal(res, text, 'admin');
        }),
        { numRuns: RUNS, ...SEED },
      );
    }
    // random path segments and query strings on every route shape
    const segment = fc.oneof(nasty.map(encode), rawBytes);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PATCH', 'DELETE', 'POST'),
        fc.constantFrom(
          '/tenants/{s}',
          '/tenants/dept/users/{s}',
          '/tenants/dept/roles/{s}',
          '/tenants/dept/clients/{s}',
          '/tenants/dept/resources/{s}',
          '/tenants/dept/clients/{s}/secret',
          '/tenants/{s}/keys/rotate',
          '/tenants/dept/audit-events?actor={s}&type={s}',
          '/tenants/dept/users?cursor={s}&limit={s}',
        ),
        segment,
        async (method, template, s) => {
          // only refusals: an unknown id, a bad cursor or a body missing where one is required
          const body = method === 'POST' || method === 'PATCH' ? '{"x-unknown":1}' : undefined;
          const { res, text } = await api(method, template.replaceAll('{s}', `~${s}`), body);
          if (res.status === 200 && method === 'GET' && template.includes('?')) return; // a filter that matches nothing is a fine answer
          assertRefusal(res, text, 'admin');
        },
      ),
      { numRuns: RUNS * 3, ...SEED },
    );
    expect(await snapshot()).toBe(before);
    expect(await databaseErrors()).toBe(errors);
  });
});

/** a value of another JSON type than `original` (arrays get an element no schema accepts) */
function wrongType(original: unknown, junk: unknown): unknown {
  if (Array.isArray(original)) return [{ unexpected: junk }];
  if (typeof original === 'string') return typeof junk === 'string' ? [junk] : (junk ?? 0);
  if (typeof original === 'boolean' || typeof original === 'number') return typeof junk === typeof original ? String(junk) : (junk ?? 'x');
  return 42;
}
