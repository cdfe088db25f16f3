import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger } from '../helpers/log-sink.ts';
import { startTessera, type Tessera } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, BACKENDS, createTestDatabase, TEST_ENV, type TestDatabase } from '../helpers/tessera.ts';
import { requiredUrl } from '../helpers/department.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MALFORMED: [string, string][] = [
  ['too long (129 characters)', 'a'.repeat(129)],
  ['a space', 'abc def'],
  ['a slash', 'abc/def'],
  ['a quote and a semicolon', 'x";drop'],
  ['a non-ASCII letter', 'caf\u00e9'],
  ['a log-forging attempt', 'ok","status":200,"x":"'],
  ['a colon', 'urn:x'],
];
const WELL_FORMED = ['a', 'req-1.2_3', 'A'.repeat(128), 'ABCxyz0189_.-'];

interface LogLine {
  msg?: string;
  requestId?: string;
  route?: string;
  status?: number;
}

describe.each(BACKENDS)('X-Request-Id on %s', (backend) => {
  let tessera: Tessera;
  let database: TestDatabase;
  let base: string;
  let api: ReturnType<typeof adminClient>;
  const captured = capturedLogger('info');
  const lines = () => captured.lines<LogLine>();
  const logLineOf = (requestId: string) => lines().filter((l) => l.msg === 'request' && l.requestId === requestId);

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    const env: Record<string, string> = { ...TEST_ENV, LOG_LEVEL: 'info', ...database.env };
    if (backend === 'postgres') env.REDIS_URL = requiredUrl('TEST_REDIS_URL');
    const config = loadConfig(env);
    tessera = await startTessera(config, { log: captured.log });
    base = tessera.publicUrl;
    api = adminClient(base, await adminToken(base, 'system', 'admin', ADMIN_PASSWORD));
    expect((await api('POST', '/tenants', { slug: 'dept', name: 'Dept' })).status).toBe(201);
  });
  afterAll(async () => {
    await tessera?.close();
    await database?.drop();
  });

  // README: "An incoming `X-Request-Id` (`[A-Za-z0-9_.-]{1,128}`) is kept, otherwise one is
  // generated; it is echoed in the response, recorded in audit events and in problem responses
  // (`instance`), so a user's report leads to the log line and the audit event."
  it.each(MALFORMED)('replaces an X-Request-Id with %s by a generated one, in the response and the log line', async (_what, raw) => {
    const res = await fetch(`${base}/t/dept/token`, {
      method: 'POST',
      headers: { 'x-request-id': raw, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    // no client authentication: an OAuth error, whose log line must still be findable
    expect(res.status).toBe(400);
    const echoed = res.headers.get('x-request-id')!;
    expect(echoed).toMatch(UUID);
    expect(echoed).not.toBe(raw);
    const logged = logLineOf(echoed);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ route: '/t/:tenant/token', status: 400 });
    // the raw value reaches no log line
    expect(captured.text()).not.toContain(JSON.stringify(raw).slice(1, -1));
  });

  it('replaces an empty X-Request-Id by a generated one', async () => {
    const res = await fetch(`${base}/t/dept/.well-known/openid-configuration`, { headers: { 'x-request-id': '' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  it.each(WELL_FORMED)('keeps a well-formed X-Request-Id (%s) in the response and the log line', async (raw) => {
    const res = await fetch(`${base}/t/dept/.well-known/openid-configuration`, { headers: { 'x-request-id': raw } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(raw);
    expect(logLineOf(raw)).toHaveLength(1);
  });

  it('names the generated id, not the malformed header, in a problem response (`instance`)', async () => {
    const raw = 'bad request id';
    const res = await fetch(`${base}/admin/tenants/dept`, { headers: { 'x-request-id': raw } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const echoed = res.headers.get('x-request-id')!;
    expect(echoed).toMatch(UUID);
    const body = (await res.json()) as { instance?: string };
    expect(body.instance).toBe(`urn:tessera:request:${echoed}`);
    expect(logLineOf(echoed)).toHaveLength(1);
    // a kept one is named as it came
    const kept = await fetch(`${base}/admin/tenants/dept`, { headers: { 'x-request-id': 'support-ticket-42' } });
    expect(((await kept.json()) as { instance?: string }).instance).toBe('urn:tessera:request:support-ticket-42');
  });

  // README (Audit trail): "recorded with actor, target, request id (the one the response's
  // `X-Request-Id` carries, never the raw header)"
  it('records the generated id, never the malformed header, in the audit event', async () => {
    const raw = 'a'.repeat(200);
    const created = await api(
      'POST',
      '/tenants/dept/resources',
      { audience: 'https://rid.example.org/api', name: 'RID', scopes: ['read'] },
      { 'x-request-id': raw },
    );
    expect(created.status).toBe(201);
    const echoed = created.headers.get('x-request-id')!;
    expect(echoed).toMatch(UUID);
    const events = await api('GET', '/tenants/dept/audit-events?type=resource.created');
    expect(events.status).toBe(200);
    const event = events.body.items!.find((e) => e.target === created.body.id);
    expect(event).toMatchObject({ type: 'resource.created', requestId: echoed });
    expect(JSON.stringify(events.body)).not.toContain(raw);
    expect(logLineOf(echoed)).toHaveLength(1);
    // and a token request with a malformed id: the provider's log line carries the generated one too
    const t = await tokenRequest(
      `${base}/t/system/token`,
      { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD },
      undefined,
      { 'x-request-id': raw },
    );
    expect(t.status).toBe(200);
    expect(t.headers.get('x-request-id')).toMatch(UUID);
    expect(logLineOf(t.headers.get('x-request-id')!)).toHaveLength(1);
  });
});
