/**
 * Without the database, the endpoints that need it answer 503 at once (discovery and JWKS keep
 * answering from memory), instead of each request waiting for a connection that will not come.
 */
import type { Middleware } from 'koa';
import { UNAVAILABLE } from '../http/oauth-error.ts';
import { TemporarilyUnavailable } from './errors.ts';

const DATABASE_ROUTES = new Set(['/token', '/token/introspection', '/token/revocation']);

export function databaseGuard(databaseUp: () => boolean): Middleware {
  return (ctx, next) => {
    if (ctx.method === 'POST' && DATABASE_ROUTES.has(ctx.path) && !databaseUp()) throw new TemporarilyUnavailable(5, UNAVAILABLE.description);
    return next();
  };
}
