/**
 * The audit trail through the admin API: GET /admin/tenants/{t}/audit-events, newest first, with
 * type/actor/time-range filters and cursor pagination; tenant admins see their own tenant only;
 * events past retention are pruned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAuditEvents } from '../../src/repositories/audit.ts';
import { scheduleAuditRetention } from '../../src/services/audit.ts';
import { adminClient, adminToken } from '../admin/helpers.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { ADMIN_PASSWORD, BACKENDS } from '../helpers/tessera.ts';
import { startDepartment, type Department } from '../signin/fixture.ts';

type Event = { id: string; type: string; actor: string; target: string | null; requestId: string | null; data: Record<string, unknown>; createdAt: string };

describe.each(BACKENDS)('audit trail on %s', (backend) => {
  let d: Department;
  let api: ReturnType<typeof adminClient>;
  let before: string;
  beforeAll(async () => {
    d = await startDepartment(backend);
    api = adminClient(d.server.url, await adminToken(d.server.url, 'system', 'admin', ADMIN_PASSWORD));
    before = new Date().toISOString();
    for (let i = 0; i < 3; i++) {
      await tokenRequest(d.token, { grant_type: 'password', username: 'alice', password: `wrong-${i}` }, d.webapp, {
        'x-forwarded-for': `198.51.100.${i + 1}`,
      });
    }
    for (let i = 0; i < 5; i++) {
      const res = await api(
        'POST',
        '/tenants/dept/users',
        { username: `staff-${i}`, password: 'staff-password-1', roles: [] },
        { 'x-request-id': `req-staff-${i}` },
      );
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => d?.server.stop());

  const list = async (query: string) => {
    const res = await api('GET', `/tenants/dept/audit-events${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as unknown as { items: Event[]; nextCursor: string | null };
  };

  it('lists events newest first, never with secrets', async () => {
    const page = await list('');
    expect(page.items.length).toBeGreaterThanOrEqual(8);
    const ids = page.items.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(ids);
    expect(page.items[0]).toMatchObject({ type: 'user.created', requestId: 'req-staff-4' });
    expect(JSON.stringify(page)).not.toMatch(/staff-password-1|wrong-\d/);
  });

  it('filters by type, actor and time range', async () => {
    const failures = await list('?type=signin.failure');
    expect(failures.items).toHaveLength(3);
    expect(failures.items.every((e) => e.type === 'signin.failure' && e.actor === `user:${d.users.alice}`)).toBe(true);
    expect(failures.items[0]!.data).toMatchObject({ reason: 'invalid_credentials', client_id: d.webapp.clientId });

    const both = await list(`?type=signin.failure,user.created&from=${encodeURIComponent(before)}`);
    expect(both.items).toHaveLength(8);

    const created = await list('?type=user.created');
    expect(created.items.filter((e) => e.actor === 'system')).toHaveLength(3); // the fixture's users
    const actor = created.items[0]!.actor;
    expect(actor).toMatch(/^user:/);
    const byActor = await list(`?actor=${encodeURIComponent(actor)}`);
    expect(byActor.items.length).toBe(5);
    expect(byActor.items.every((e) => e.actor === actor)).toBe(true);

    const since = await list(`?from=${encodeURIComponent(before)}`);
    expect(since.items.length).toBe(8);
    const untilBefore = await list(`?to=${encodeURIComponent(before)}`);
    expect(untilBefore.items.every((e) => e.createdAt < before)).toBe(true);
    expect(untilBefore.items.some((e) => e.type === 'user.created' && e.actor === actor)).toBe(false);
    const future = await list(`?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.items).toEqual([]);
  });

  it('paginates with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: Event[]; nextCursor: string | null } = await list(
        `?type=user.created&from=${encodeURIComponent(before)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.target!));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
  });

  it('refuses bad input and other tenants', async () => {
    for (const q of ['?from=yesterday', '?limit=0', '?cursor=not-a-cursor', '?colour=blue']) {
      const res = await api('GET', `/tenants/dept/audit-events${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    // a tenant admin of another tenant may not read this one
    expect((await api('POST', '/tenants', { slug: 'other', name: 'Other', admin: { username: 'boss', password: 'boss-password-1' } })).status).toBe(201);
    const other = adminClient(d.server.url, await adminToken(d.server.url, 'other', 'boss', 'boss-password-1'));
    expect((await other('GET', '/tenants/dept/audit-events')).status).toBe(403);
    const own = await other('GET', '/tenants/other/audit-events');
    expect(own.status).toBe(200);
    expect((own.body.items as Event[]).every((e) => !e.target?.includes(d.users.alice))).toBe(true);
  });

  it('prunes events older than the retention period', async () => {
    const { prisma } = d.server.tessera.db;
    const old = new Date(Date.now() - 100 * 86_400_000);
    await prisma.auditEvent.createMany({
      data: Array.from({ length: 7 }, (_, i) => ({ tenantId: d.tenantId, type: 'test.old', actor: 'system', target: String(i), createdAt: old })),
    });
    expect((await list('?type=test.old')).items).toHaveLength(7);
    const kept = (await list('?limit=200')).items.length - 7;
    const retention = scheduleAuditRetention({
      retentionDays: 90,
      prune: (cutoff) => pruneAuditEvents(prisma, cutoff, 3),
      onError: (err) => {
        throw err;
      },
    });
    try {
      expect(await retention.runOnce()).toBe(7);
    } finally {
      retention.stop();
    }
    expect((await list('?type=test.old')).items).toHaveLength(0);
    expect((await list('?limit=200')).items).toHaveLength(kept);
  });
});
