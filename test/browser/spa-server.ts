/**
 * Serves examples/spa/ on a free loopback port with node:http, plus a generated config.json and
 * the example simulate API mounted under /api (same origin as the page, so the API needs no CORS;
 * the token endpoint, on Tessera's origin, is called cross-origin as a real SPA would).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulateApi } from '../../examples/simulate-api/app.ts';
import type { Outbreak } from '../../examples/simulate-api/data.ts';

const ROOT = new URL('../../examples/spa/', import.meta.url);
const FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/spa.css': 'spa.css',
};
const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript', css: 'text/css' };

export interface SpaServer {
  url: string;
  /** what the page signs in with (known only once Tessera has a client for `url`) */
  configure(opts: SpaOptions): void;
  stop(): Promise<void>;
}

export interface SpaOptions {
  issuer: string;
  clientId: string;
  audience: string;
  scope: string;
  outbreaks: Outbreak[];
}

export async function startSpaServer(): Promise<SpaServer> {
  let opts: SpaOptions | undefined;
  let api: ReturnType<ReturnType<typeof createSimulateApi>['callback']> | undefined;
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!opts || !api) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('not configured');
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      req.url = req.url!.slice(4) || '/';
      void api(req, res);
      return;
    }
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: opts.issuer, clientId: opts.clientId, scope: opts.scope, api: `${base}/api` }));
      return;
    }
    const file = FILES[path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    readFile(new URL(file, ROOT)).then(
      (body) => res.writeHead(200, { 'content-type': `${TYPES[file.split('.').pop()!]}; charset=utf-8`, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/`,
    configure(o) {
      opts = o;
      api = createSimulateApi({ issuers: [o.issuer], audience: o.audience, outbreaks: o.outbreaks }).callback();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
