/**
 * The authorization policy, exhaustively as a pure function: every actor kind × every operation,
 * tenant scope, assignments, protected principals, built-ins. (The HTTP table in
 * test/security/authorization-table.test.ts checks the same rules through every admin route.)
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { SYSTEM_ACTOR, type Authority } from '../contract.ts';
import { OPERATIONS, authorize, decide, type Operation } from './policy.ts';

const PLATFORM: Authority = { kind: 'platform-admin' };
const ADMIN_A: Authority = { kind: 'tenant-admin', tenant: 'a', tenantId: 'id-a' };
const NONE: Authority = { kind: 'none' };
const SYSTEM: Authority = { kind: 'system' };
const ops = Object.keys(OPERATIONS) as Operation[];
const platformOps = ops.filter((o) => OPERATIONS[o].scope === 'platform');
const tenantOps = ops.filter((o) => OPERATIONS[o].scope === 'tenant');
const changing = ops.filter((o) => 'changesTarget' in OPERATIONS[o]);
const allowed = (a: Authority, r: Parameters<typeof decide>[1]) => decide(a, r).allowed;

describe('the admin authorization policy', () => {
  it('knows every operation of the admin API, two of them platform-wide', () => {
    expect(platformOps.sort()).toEqual(['tenant.create', 'tenant.list']);
    expect(changing.sort()).toEqual([
      'client.delete',
      'client.rotate_secret',
      'client.update',
      'resource.delete',
      'resource.update',
      'role.delete',
      'role.update',
      'tenant.update',
      'user.delete',
      'user.mfa_reset',
      'user.update',
    ]);
    expect(ops).toHaveLength(29);
  });

  it('lets the system (bootstrap, CLI) do everything', () => {
    for (const operation of ops) {
      expect(allowed(SYSTEM, { operation, target: { builtIn: true, roles: ['platform-admin'], heldByProtected: true }, assigns: ['platform-admin'] })).toBe(
        true,
      );
    }
  });

  it('lets a platform admin do everything, in every tenant, on every target', () => {
    for (const operation of ops) {
      const r = {
        operation,
        tenant: { slug: 'other' },
        target: { builtIn: true, roles: ['platform-admin'], heldByProtected: true },
        assigns: ['platform-admin'],
      };
      expect(decide(PLATFORM, r)).toEqual({ allowed: true });
    }
  });

  it('keeps platform operations for platform admins', () => {
    for (const operation of platformOps) {
      expect(decide(ADMIN_A, { operation })).toEqual({ allowed: false, reason: 'only a platform admin may do this' });
      expect(allowed(NONE, { operation })).toBe(false);
    }
  });

  it('lets a tenant admin act in its own tenant only, named by slug or id', () => {
    for (const operation of tenantOps) {
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'a' } })).toBe(true);
      expect(allowed(ADMIN_A, { operation, tenant: { id: 'id-a' } })).toBe(true);
      expect(decide(ADMIN_A, { operation, tenant: { slug: 'b' } })).toEqual({ allowed: false, reason: 'this token may not administer that tenant' });
      expect(allowed(ADMIN_A, { operation, tenant: { id: 'id-b' } })).toBe(false);
      // a tenant must be named: no tenant, no permission
      expect(allowed(ADMIN_A, { operation })).toBe(false);
      // the slug of one tenant is not the id of another
      expect(allowed(ADMIN_A, { operation, tenant: { id: 'a' } })).toBe(false);
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'id-a' } })).toBe(false);
    }
  });

  it('gives someone without an admin role nothing', () => {
    for (const operation of ops) {
      expect(decide(NONE, { operation, tenant: { slug: 'a' } }).allowed).toBe(false);
    }
    expect(decide(NONE, { operation: 'user.read', tenant: { slug: 'a' } })).toEqual({ allowed: false, reason: 'this token may not administer that tenant' });
  });

  it('keeps the platform-admin role for platform admins to assign', () => {
    for (const operation of ['user.create', 'user.update', 'client.create', 'client.update'] as const) {
      expect(decide(ADMIN_A, { operation, tenant: { slug: 'a' }, assigns: ['viewer', 'platform-admin'] })).toEqual({
        allowed: false,
        reason: 'only a platform admin may assign the platform-admin role',
      });
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'a' }, assigns: ['viewer', 'tenant-admin'] })).toBe(true);
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'a' }, assigns: [] })).toBe(true);
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'a' } })).toBe(true);
    }
  });

  it('protects principals holding platform-admin, built-ins, and roles a platform admin holds, for every change', () => {
    for (const operation of changing) {
      const base = { operation, tenant: { slug: 'a' } };
      expect(decide(ADMIN_A, { ...base, target: { roles: ['tenant-admin', 'platform-admin'] } })).toEqual({
        allowed: false,
        reason: 'only a platform admin may change a principal that holds platform-admin',
      });
      expect(decide(ADMIN_A, { ...base, target: { builtIn: true } })).toEqual({
        allowed: false,
        reason: 'built-in clients, roles and resources cannot be changed by tenant admins',
      });
      expect(decide(ADMIN_A, { ...base, target: { heldByProtected: true } })).toEqual({
        allowed: false,
        reason: 'only a platform admin may change a role that a holder of platform-admin holds',
      });
      expect(decide(ADMIN_A, { ...base, target: { protectsPlatformAdmins: true } })).toEqual({
        allowed: false,
        reason: 'only a platform admin may change a setting that protects holders of platform-admin',
      });
      expect(allowed(PLATFORM, { ...base, target: { protectsPlatformAdmins: true } })).toBe(true);
      expect(allowed(ADMIN_A, { ...base, target: { roles: ['tenant-admin'], builtIn: false, heldByProtected: false, protectsPlatformAdmins: false } })).toBe(
        true,
      );
      expect(allowed(ADMIN_A, { ...base, target: {} })).toBe(true);
    }
  });

  it('lets a tenant admin read protected targets and built-ins', () => {
    for (const operation of ['user.read', 'client.read', 'role.read', 'resource.read', 'user.list'] as const) {
      expect(allowed(ADMIN_A, { operation, tenant: { slug: 'a' }, target: { builtIn: true, roles: ['platform-admin'], heldByProtected: true } })).toBe(true);
    }
  });

  it('throws a 403 naming the reason, and nothing when allowed', () => {
    const actor = { actor: 'user:1@a', authority: ADMIN_A };
    expect(() => authorize(actor, { operation: 'tenant.create' })).toThrow(AppError);
    try {
      authorize(actor, { operation: 'tenant.create' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'forbidden', status: 403, message: 'only a platform admin may do this' });
    }
    expect(() => authorize(actor, { operation: 'user.read', tenant: { slug: 'a' } })).not.toThrow();
    expect(() => authorize(SYSTEM_ACTOR, { operation: 'tenant.create' })).not.toThrow();
    expect(SYSTEM_ACTOR).toEqual({ actor: 'system', authority: { kind: 'system' } });
  });
});
