/**
 * What a presented token is: the shape decides what is even looked at (no signature check for what
 * cannot be a JWT, no database read for what cannot be one of oidc-provider's values), and what an
 * opaque token's description carries.
 */
import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { inspectToken } from './inspect.ts';

function fakes(stored: Record<string, Record<string, unknown>> = {}) {
  const verified: string[] = [];
  const looked: string[] = [];
  const find = (kind: string) => async (value: string) => {
    looked.push(`${kind}:${value}`);
    const t = stored[value];
    return t && t.kind === kind ? { isExpired: false, destroy: async () => {}, ...t } : undefined;
  };
  const provider = { RefreshToken: { find: find('rt') }, AccessToken: { find: find('at') } } as unknown as Provider;
  const verify = async (token: string): Promise<JWTPayload> => {
    verified.push(token);
    if (token === 'good.jwt.sig') return { sub: 'u', jti: 'j' };
    throw new Error('bad signature');
  };
  return { provider, verify, verified, looked };
}

describe('inspecting a presented token', () => {
  it('checks the signature of what is shaped like a JWT, and only that', async () => {
    const f = fakes();
    expect(await inspectToken('good.jwt.sig', f.provider, f.verify)).toEqual({ kind: 'access_token', payload: { sub: 'u', jti: 'j' } });
    expect(await inspectToken('bad.jwt.sig', f.provider, f.verify)).toBeUndefined();
    expect(await inspectToken('a.b.', f.provider, f.verify)).toBeUndefined();
    expect(f.verified).toEqual(['good.jwt.sig', 'bad.jwt.sig', 'a.b.']);
    // not a JWT's shape: neither verified nor looked up
    for (const t of ['!good.jwt.sig', 'good.jwt.sig!', '.jwt.sig', 'good..sig', 'a.b.c.d', 'good.jwt.sig\n']) {
      expect(await inspectToken(t, f.provider, f.verify), t).toBeUndefined();
    }
    expect(f.verified).toHaveLength(3);
    expect(f.looked).toEqual([]);
  });

  it("looks up only what is shaped like oidc-provider's values (16 to 256 URL-safe characters)", async () => {
    const f = fakes();
    for (const t of ['x'.repeat(15), 'x'.repeat(257), `!${'x'.repeat(20)}`, `${'x'.repeat(20)}!`, `${'x'.repeat(20)} `]) {
      expect(await inspectToken(t, f.provider, f.verify), t).toBeUndefined();
    }
    expect(f.looked).toEqual([]);
    await inspectToken('x'.repeat(16), f.provider, f.verify);
    await inspectToken('y'.repeat(256), f.provider, f.verify);
    expect(f.looked).toHaveLength(4);
  });

  it('refuses the empty token and anything over 8 KiB without looking', async () => {
    const f = fakes();
    const long = `${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(193)}`;
    expect(long.length).toBe(8195);
    expect(await inspectToken('', f.provider, f.verify)).toBeUndefined();
    expect(await inspectToken(long, f.provider, f.verify)).toBeUndefined();
    expect(await inspectToken(long.slice(0, 8192), f.provider, f.verify)).toBeUndefined();
    expect(await inspectToken(long.slice(0, 8193), f.provider, f.verify)).toBeUndefined();
    // only the one of exactly 8192 characters reached the signature check
    expect(f.verified).toEqual([long.slice(0, 8192)]);
  });

  it('describes an opaque token with only the members it has', async () => {
    const value = 'r'.repeat(43);
    const bare = 'b'.repeat(43);
    const f = fakes({
      [value]: { kind: 'rt', clientId: 'app', accountId: 'u1', grantId: 'g1', scope: 'openid read', resource: 'https://api/', iat: 100, exp: 200 },
      [bare]: { kind: 'at', clientId: 'app', accountId: 'u1', grantId: 'g2' },
    });
    const full = await inspectToken(value, f.provider, f.verify);
    expect(full).toMatchObject({
      kind: 'refresh_token',
      clientId: 'app',
      accountId: 'u1',
      grantId: 'g1',
      scope: 'openid read',
      resource: 'https://api/',
      iat: 100,
      exp: 200,
    });
    const minimal = await inspectToken(bare, f.provider, f.verify);
    expect(minimal && Object.keys(minimal).sort()).toEqual(['accountId', 'clientId', 'destroy', 'grantId', 'kind']);
  });
});
