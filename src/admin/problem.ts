/**
 * RFC 9457 problem details for the admin API: the only place that writes admin error bodies.
 * `type` is stable per error code; unexpected errors become a 503 without details.
 */
import type { Context, Next } from 'koa';
import { AppError, fromDatabaseError, type AppErrorCode } from '../errors.ts';
import { RETRY_AFTER_SECONDS, UNAVAILABLE } from '../http/oauth-error.ts';
import type { Logger } from '../observability/log.ts';

export const problemType = (code: AppErrorCode | 'unauthorized' | 'forbidden') => `urn:tessera:problem:${code}`;

const TITLES: Record<AppErrorCode, string> = {
  invalid_request: 'Invalid request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unavailable: 'Service unavailable',
};

export function problemMiddleware(log: Logger) {
  return async function problems(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      // an AppError, or a database error that is the caller's doing (a duplicate, input refused); else unexpected
      let e = fromDatabaseError(err);
      if (!e) {
        log.error({ err: { name: (err as Error).name, message: (err as Error).message }, requestId: ctx.state.requestId }, 'admin request failed');
        e = new AppError('unavailable', UNAVAILABLE.description);
      }
      ctx.status = e.status;
      ctx.type = 'application/problem+json';
      if (e.code === 'unavailable') ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (e.code === 'unauthorized') {
        ctx.set('WWW-Authenticate', e.details?.invalidToken ? 'Bearer realm="tessera-admin", error="invalid_token"' : 'Bearer realm="tessera-admin"');
      }
      if (Array.isArray(e.details?.allow)) ctx.set('Allow', (e.details.allow as string[]).join(', '));
      if (typeof e.details?.insufficientScope === 'string') {
        ctx.set('WWW-Authenticate', `Bearer realm="tessera-admin", error="insufficient_scope", scope="${e.details.insufficientScope}"`);
      }
      ctx.set('Cache-Control', 'no-store');
      const { invalidToken: _hidden, insufficientScope: _scope, allow: _allow, ...details } = e.details ?? {};
      ctx.body = {
        type: problemType(e.code),
        title: TITLES[e.code],
        status: e.status,
        detail: e.message,
        instance: ctx.state.requestId ? `urn:tessera:request:${ctx.state.requestId}` : undefined,
        ...details,
      };
    }
  };
}
