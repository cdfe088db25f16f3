/** Small HTTP helpers that speak OAuth to a running Tessera. */
import { request } from 'node:http';

export interface TokenResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function discover(url: string, tenant: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/t/${tenant}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`discovery for ${tenant} answered ${res.status}`);
  return (await res.json()) as Record<string, string>;
}

export async function tokenRequest(
  tokenEndpoint: string,
  form: Record<string, string | string[]>,
  auth?: { clientId: string; clientSecret: string },
  extraHeaders: Record<string, string> = {},
): Promise<TokenResponse> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const item of [v].flat()) body.append(k, item);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...extraHeaders };
  if (auth) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(auth.clientId)}:${enc(auth.clientSecret)}`).toString('base64')}`;
  }
  const res = await fetch(tokenEndpoint, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** a token request on a fresh connection (the cluster spreads connections, not requests) */
export function freshTokenRequest(
  url: string,
  auth: { clientId: string; clientSecret: string },
): Promise<{ status: number; worker: string; body: Record<string, unknown> }> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          authorization: `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`,
          connection: 'close',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-tessera-worker'] ?? ''), body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
