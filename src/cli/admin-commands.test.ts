/**
 * The CLI's admin commands come from the admin API's route table (issue 18): one command per
 * route, an option for every field of every body and query, help that names them all, and a
 * command line read into exactly the body the admin API would get.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminRoutes } from '../admin/routes.ts';
import { adminCommands, commandUsage, optionOf, overview, parseInvocation, UsageError, type AdminCommand } from './admin-commands.ts';

const routes = adminRoutes();
const commands = adminCommands(routes);
const find = (noun: string, verb: string): AdminCommand => {
  const c = commands.find((x) => x.words[0] === noun && x.words[1] === verb);
  if (!c) throw new Error(`no command ${noun} ${verb}`);
  return c;
};

type Schema = { type?: string; anyOf?: Schema[]; properties?: Record<string, Schema> };
/** every field a body or query can carry, as a dotted path (nested objects opened) */
function leaves(s: Schema, prefix = ''): string[] {
  const inner = s.anyOf?.find((x) => x.type !== 'null') ?? s;
  if (inner.type === 'object' && inner.properties) return Object.entries(inner.properties).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

describe('the CLI commands derived from the route table', () => {
  it('has exactly one command per admin route, each with its own words', () => {
    expect(commands).toHaveLength(routes.length);
    const names = commands.map((c) => c.words.join(' '));
    expect(new Set(names).size).toBe(names.length);
    // list, get, create, update, delete for every collection; secret rotation; the audit query
    for (const noun of ['resource', 'role', 'user', 'client'])
      for (const verb of ['list', 'get', 'create', 'update', 'delete']) expect(names).toContain(`${noun} ${verb}`);
    for (const name of [
      'tenant create',
      'tenant list',
      'tenant get',
      'tenant update',
      'user mfa-reset',
      'client rotate-secret',
      'keys list',
      'keys rotate',
      'audit list',
    ])
      expect(names).toContain(name);
  });

  it('gives every field of every body and query an option (or a positional argument), and --help names each', () => {
    for (const c of commands) {
      const fields = [
        ...(c.route.body ? leaves(z.toJSONSchema(c.route.body, { io: 'input', unrepresentable: 'any' }) as Schema) : []),
        ...(c.route.query ? leaves(z.toJSONSchema(c.route.query, { io: 'input', unrepresentable: 'any' }) as Schema) : []),
      ];
      const help = commandUsage(c);
      for (const field of fields) {
        const option = optionOf(c, field);
        expect(option, `${c.words.join(' ')}: ${field}`).toMatch(/^(--|<)/);
        expect(help, `${c.words.join(' ')} --help`).toContain(option.startsWith('<') ? option : `${option} `);
      }
      for (const p of c.params) expect(help).toContain(p === 't' ? '<tenant>' : '<');
      expect(help).toContain(c.route.summary);
    }
    const all = overview(commands, []);
    for (const c of commands) expect(all).toContain(`tessera ${c.words.join(' ')}`);
  });

  it('reads a command line into the body the admin API takes: nested fields, lists, JSON items, null, negation, aliases', () => {
    expect(
      parseInvocation(find('tenant', 'create'), [
        'health-b',
        '--name',
        'Health B',
        '--alg',
        'EdDSA',
        '--admin-username',
        'boss',
        '--admin-password',
        'pw-123456',
      ]),
    ).toEqual({
      params: {},
      query: {},
      body: { slug: 'health-b', name: 'Health B', signingAlg: 'EdDSA', admin: { username: 'boss', password: 'pw-123456' } },
      json: false,
    });
    expect(
      parseInvocation(find('tenant', 'update'), ['health-b', '--mfa-require', 'roles', '--mfa-role', 'analyst', '--mfa-role', 'viewer', '--json']),
    ).toEqual({
      params: { t: 'health-b' },
      query: {},
      body: { mfa: { require: 'roles', roles: ['analyst', 'viewer'] } },
      json: true,
    });
    const role = parseInvocation(find('role', 'create'), [
      't1',
      '--name',
      'analyst',
      '--permission',
      '{"resource":"https://epi.example/api","scope":"simulate:run"}',
    ]);
    expect(role.body).toEqual({ name: 'analyst', permissions: [{ resource: 'https://epi.example/api', scope: 'simulate:run' }] });
    const client = parseInvocation(find('client', 'create'), [
      't1',
      '--name',
      'spa',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      'https://spa.example/cb',
      '--public',
    ]);
    expect(client.body).toEqual({ name: 'spa', grantTypes: ['authorization_code'], redirectUris: ['https://spa.example/cb'], tokenEndpointAuthMethod: 'none' });
    const update = parseInvocation(find('client', 'update'), [
      't1',
      'c1',
      '--rate-limit-per-hour',
      'null',
      '--refresh-token-idle-ttl',
      '3600',
      '--no-disabled',
    ]);
    expect(update).toMatchObject({ params: { t: 't1', clientId: 'c1' }, body: { rateLimitPerHour: null, refreshTokenIdleTtl: 3600, disabled: false } });
    expect(parseInvocation(find('user', 'update'), ['t1', 'u1', '--disabled']).body).toEqual({ disabled: true });
    // a query's values stay strings, as over HTTP
    expect(parseInvocation(find('audit', 'list'), ['t1', '--type', 'signin.failure', '--limit', '5']).query).toEqual({ type: 'signin.failure', limit: '5' });
    // --body gives the whole body; options override its fields
    expect(
      parseInvocation(find('user', 'create'), ['t1', '--body', '{"username":"ann","password":"x","roles":["a"]}', '--password', 'pw-123456']).body,
    ).toEqual({
      username: 'ann',
      password: 'pw-123456',
      roles: ['a'],
    });
    expect(parseInvocation(find('user', 'create'), ['t1', '--body', '-'], () => '{"username":"bo","password":"p","roles":[]}').body).toMatchObject({
      username: 'bo',
    });
  });

  it('refuses a command line it cannot read, with a usage error that says why', () => {
    const usage = (c: AdminCommand, argv: string[]) => {
      try {
        parseInvocation(c, argv);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(usage(find('user', 'get'), ['t1'])).toBe('missing <id>');
    expect(usage(find('user', 'get'), ['t1', 'u1', 'extra'])).toBe('unexpected argument "extra"');
    expect(usage(find('user', 'create'), ['t1', '--frobnicate'])).toMatch(/Unknown option '--frobnicate'/);
    expect(usage(find('resource', 'update'), ['t1', 'r1', '--access-token-ttl', 'soon'])).toBe('--access-token-ttl must be a number');
    expect(usage(find('role', 'create'), ['t1', '--permission', 'not json'])).toBe('--permission must be JSON');
    expect(usage(find('user', 'create'), ['t1', '--body', '[1]'])).toBe('--body must be a JSON object');
    expect(usage(find('user', 'create'), ['t1', '--body', '{'])).toBe('--body is not JSON');
  });

  it('names the option behind a validation error', () => {
    expect(optionOf(find('tenant', 'update'), 'mfa.require')).toBe('--mfa-require');
    expect(optionOf(find('user', 'create'), 'username')).toBe('<username>');
    expect(optionOf(find('client', 'create'), 'grantTypes')).toBe('--grant-type');
    expect(optionOf(find('user', 'create'), 'body')).toBe('body');
  });
});
