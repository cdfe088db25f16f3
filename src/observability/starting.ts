/**
 * What a request gets while the process starts (migrations, bootstrap, the first connections):
 * an answer at once, never silence. `/healthz` 200 (the process lives), `/readyz` 503, everything
 * else 503 with `Retry-After` and the body its surface always uses: RFC 9457 problem+json under
 * `/admin`, RFC 6749 JSON elsewhere. A load balancer or a retrying client moves on instead of
 * hanging on an accepted connection that is never answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UNAVAILABLE } from '../http/oauth-error.ts';

const RETRY_AFTER_SECONDS = '1';

export function startingHandler(startedAt = Date.now()) {
  return function starting(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, type: string, body: unknown) => {
      res.statusCode = status;
      res.setHeader('Content-Type', type);
      res.setHeader('Cache-Control', 'no-store');
      if (status === 503) res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
      res.end(JSON.stringify(body));
    };
    if (path === '/healthz') {
      send(200, 'application/json; charset=utf-8', { status: 'ok', pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
    } else if (path === '/readyz') {
      send(503, 'application/json; charset=utf-8', { status: 'not_ready', checks: { startup: 'starting' } });
    } else if (path === '/admin' || path.startsWith('/admin/')) {
      send(503, 'application/problem+json; charset=utf-8', {
        type: 'urn:tessera:problem:unavailable',
        title: 'Service unavailable',
        status: 503,
        detail: 'the server is starting; try again shortly',
      });
    } else {
      send(503, 'application/json; charset=utf-8', { error: UNAVAILABLE.error, error_description: 'the server is starting; try again shortly' });
    }
  };
}
