import { errors } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { TemporarilyUnavailable, TooManyRequests } from '../oidc/errors.ts';
import { OAuthError, oauthErrorOf, writeOAuthError } from './oauth-error.ts';

const unavailable = {
  status: 503,
  body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' },
  headers: { 'Retry-After': '5' },
  unexpected: true,
};

describe('the OAuth error writer', () => {
  it("answers oidc-provider's client errors as they are", () => {
    expect(oauthErrorOf(new errors.InvalidGrant('grant request is invalid'))).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'grant request is invalid' },
      headers: {},
      unexpected: false,
    });
  });

  it("answers Tessera's refusals with when to come back", () => {
    expect(oauthErrorOf(new TooManyRequests(7))).toEqual({
      status: 429,
      body: { error: 'too_many_requests', error_description: 'too many failed attempts; try again later' },
      headers: { 'Retry-After': '7' },
      unexpected: false,
    });
    expect(oauthErrorOf(new TemporarilyUnavailable(1))).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'the service is busy; try again shortly' },
      headers: { 'Retry-After': '1' },
      unexpected: false,
    });
  });

  it('answers its own errors with their headers', () => {
    expect(oauthErrorOf(new OAuthError(401, 'unauthorized', 'a token is required', { 'WWW-Authenticate': 'Bearer' }))).toEqual({
      status: 401,
      body: { error: 'unauthorized', error_description: 'a token is required' },
      headers: { 'WWW-Authenticate': 'Bearer' },
      unexpected: false,
    });
  });

  it('answers an AppError by its code, with Retry-After when it is a 503', () => {
    expect(oauthErrorOf(new AppError('not_found', 'unknown tenant'))).toEqual({
      status: 404,
      body: { error: 'not_found', error_description: 'unknown tenant' },
      headers: {},
      unexpected: false,
    });
    expect(oauthErrorOf(new AppError('unavailable', 'busy'))).toEqual({
      status: 503,
      body: { error: 'unavailable', error_description: 'busy' },
      headers: { 'Retry-After': '5' },
      unexpected: false,
    });
  });

  it('answers input the database refused as the caller’s 400', () => {
    expect(oauthErrorOf(Object.assign(new Error('invalid byte sequence'), { code: '22021' }))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request contains characters or values that are not allowed' },
      headers: {},
      unexpected: false,
    });
  });

  it('never shows an unexpected failure: a plain error, server_error, or a 5xx not marked as shown', () => {
    expect(oauthErrorOf(new Error('connect ECONNREFUSED 10.0.0.5:5432'))).toEqual(unavailable);
    expect(oauthErrorOf(new errors.OIDCProviderError(500, 'server_error'))).toEqual(unavailable);
    expect(oauthErrorOf(new errors.OIDCProviderError(500, 'internal_detail'))).toEqual(unavailable);
    expect(oauthErrorOf({ statusCode: 502, error: 'upstream', error_description: 'connect ECONNREFUSED 10.0.0.5:5432' })).toEqual(unavailable);
    expect(oauthErrorOf(undefined)).toEqual(unavailable);
  });

  it('writes status, headers, no-store and the body, and says whether it was unexpected', () => {
    const headers: Record<string, string> = {};
    const ctx = { status: 200, body: undefined as unknown, set: (k: string, v: string) => void (headers[k] = v) };
    expect(writeOAuthError(ctx, new TooManyRequests(3))).toBe(false);
    expect(ctx).toMatchObject({ status: 429, body: { error: 'too_many_requests' } });
    expect(headers).toEqual({ 'Retry-After': '3', 'Cache-Control': 'no-store' });
    expect(writeOAuthError(ctx, new Error('boom'))).toBe(true);
    expect(ctx).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
  });
});
