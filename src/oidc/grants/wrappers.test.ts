/**
 * The wrappers around oidc-provider's own grants: the refresh grant commits its noted rotation only
 * after the handler succeeded (one conditional statement; a lost race is invalid_grant, nothing
 * revoked), and the code grant burns a code presented with the wrong PKCE verifier.
 */
import { createHash } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
// @ts-expect-error: oidc-provider's request-context storage (Provider.ctx), to run as inside a route
import als from 'oidc-provider/lib/helpers/als.js';
import { describe, expect, it } from 'vitest';
import type { ArtifactRepository, ArtifactWrite } from '../../repositories/artifacts.ts';
import { grantTypeHandlers } from '../internals.ts';
import { requestState } from '../request-context.ts';
import { burnCodeOnWrongVerifier } from './authorization-code.ts';
import { commitRotationOnSuccess } from './refresh-token.ts';

type Handler = (ctx: never) => Promise<void>;
const inRequest = <T>(fn: () => Promise<T>): Promise<T> => (als as { run: (s: object, f: () => Promise<T>) => Promise<T> }).run({}, fn);
const data = { payload: {}, expiresAt: null, grantId: 'g', uid: null, userCode: null } as ArtifactWrite;

function withRefresh(handler: Handler, rotateResult: boolean) {
  const provider = new Provider('http://localhost:1/t/x', {});
  grantTypeHandlers(provider).set('refresh_token', handler as never);
  const rotations: unknown[][] = [];
  const artifacts = {
    rotate: async (...args: unknown[]) => {
      rotations.push(args);
      return rotateResult;
    },
  } as unknown as ArtifactRepository;
  commitRotationOnSuccess(provider, artifacts);
  return { wrapped: grantTypeHandlers(provider).get('refresh_token')! as unknown as Handler, rotations };
}

describe('the refresh grant, committed on success', () => {
  const noting =
    (fail?: Error): Handler =>
    async () => {
      requestState()!.pendingRotation = { model: 'RefreshToken', oldId: 'old', id: 'new', data };
      if (fail) throw fail;
    };

  it('commits the noted rotation once the handler succeeded', async () => {
    const { wrapped, rotations } = withRefresh(noting(), true);
    await inRequest(() => wrapped({} as never));
    expect(rotations).toEqual([['RefreshToken', 'old', 'new', data]]);
  });

  it('drops it when the handler refused the refresh: the token stays usable', async () => {
    const refused = new errors.InvalidTarget('unknown resource');
    const { wrapped, rotations } = withRefresh(noting(refused), true);
    await expect(inRequest(() => wrapped({} as never))).rejects.toBe(refused);
    expect(rotations).toEqual([]);
  });

  it('answers invalid_grant, revoking nothing, when another request consumed the token first', async () => {
    const { wrapped, rotations } = withRefresh(noting(), false);
    const err = await inRequest(() => wrapped({} as never)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.InvalidGrant);
    expect((err as errors.InvalidGrant).error_detail).toBe('refresh token already used');
    expect(rotations).toHaveLength(1);
  });

  it('does nothing more when nothing was noted', async () => {
    const { wrapped, rotations } = withRefresh(async () => {}, true);
    await inRequest(() => wrapped({} as never));
    await wrapped({} as never);
    expect(rotations).toEqual([]);
  });

  it("needs oidc-provider's refresh grant to wrap", () => {
    const provider = new Provider('http://localhost:1/t/y', {});
    grantTypeHandlers(provider).delete('refresh_token');
    expect(() => commitRotationOnSuccess(provider, {} as ArtifactRepository)).toThrow('oidc-provider has no refresh_token grant to wrap');
  });
});

describe('the code grant, burning a code presented with the wrong verifier', () => {
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  function withCode(code: Record<string, unknown> | undefined, handler: Handler) {
    const provider = new Provider('http://localhost:1/t/z', {});
    grantTypeHandlers(provider).set('authorization_code', handler as never);
    const consumed: string[] = [];
    const found = code && { ...code, consume: async () => void consumed.push('consumed') };
    Object.defineProperty(provider, 'AuthorizationCode', { value: { find: async () => found } });
    burnCodeOnWrongVerifier(provider);
    return { wrapped: grantTypeHandlers(provider).get('authorization_code')! as unknown as Handler, consumed };
  }
  const ctx = (params: Record<string, unknown>, clientId = 'spa') => ({ oidc: { params, client: { clientId } } }) as never;
  const pkceFailure: Handler = async () => {
    throw new errors.InvalidGrant('PKCE verification failed');
  };
  const goodCode = { clientId: 'spa', codeChallenge: challenge };

  it('consumes the code and still answers the error', async () => {
    const { wrapped, consumed } = withCode(goodCode, pkceFailure);
    await expect(wrapped(ctx({ code: 'c', code_verifier: 'w'.repeat(43) }))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(consumed).toEqual(['consumed']);
    const missing = withCode(goodCode, pkceFailure);
    await expect(missing.wrapped(ctx({ code: 'c' }))).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(missing.consumed).toEqual(['consumed']);
  });

  it("leaves the code alone when the verifier was right (another check failed), or the code is not this client's, or spent, or unknown", async () => {
    for (const [code, params, client] of [
      [goodCode, { code: 'c', code_verifier: verifier }, 'spa'],
      [goodCode, { code: 'c', code_verifier: 'w'.repeat(43) }, 'other'],
      [{ ...goodCode, consumed: 123 }, { code: 'c', code_verifier: 'w'.repeat(43) }, 'spa'],
      [undefined, { code: 'c', code_verifier: 'w'.repeat(43) }, 'spa'],
      [{ clientId: 'spa' }, { code: 'c', code_verifier: 'w'.repeat(43) }, 'spa'],
      [goodCode, { code_verifier: 'w'.repeat(43) }, 'spa'],
      [goodCode, { code: '', code_verifier: 'w'.repeat(43) }, 'spa'],
      [goodCode, { code: ['c'], code_verifier: 'w'.repeat(43) }, 'spa'],
    ] as [Record<string, unknown> | undefined, Record<string, unknown>, string][]) {
      const { wrapped, consumed } = withCode(code, pkceFailure);
      await expect(wrapped(ctx(params, client))).rejects.toBeInstanceOf(errors.InvalidGrant);
      expect(consumed).toEqual([]);
    }
  });

  it('refuses the built-in clients of the account page and the console: they redeem in process only', async () => {
    for (const client of ['tessera-account', 'tessera-console']) {
      let ran = false;
      const { wrapped, consumed } = withCode({ ...goodCode, clientId: client }, async () => {
        ran = true;
      });
      const err = await wrapped(ctx({ code: 'c', code_verifier: verifier }, client)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.UnauthorizedClient);
      expect(ran).toBe(false);
      expect(consumed).toEqual([]);
    }
  });

  it("needs oidc-provider's code grant to wrap", () => {
    const provider = new Provider('http://localhost:1/t/z', {});
    grantTypeHandlers(provider).delete('authorization_code');
    expect(() => burnCodeOnWrongVerifier(provider)).toThrow('oidc-provider has no authorization_code grant to wrap');
  });

  it("leaves it alone on success and on errors that are not the client's (a failing database)", async () => {
    const ok = withCode(goodCode, async () => {});
    await ok.wrapped(ctx({ code: 'c', code_verifier: 'w'.repeat(43) }));
    expect(ok.consumed).toEqual([]);
    const down = withCode(goodCode, async () => {
      throw new Error('database down');
    });
    await expect(down.wrapped(ctx({ code: 'c', code_verifier: 'w'.repeat(43) }))).rejects.toThrow('database down');
    expect(down.consumed).toEqual([]);
  });
});
