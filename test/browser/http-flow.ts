/**
 * The browser sign-in driven over plain HTTP (fetch with a tiny cookie jar, redirects followed by
 * hand), for the tests that need a code without a browser: PKCE, code replay, open redirects.
 */
import { createHash, randomBytes } from 'node:crypto';

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  values(): string[] {
    return [...this.cookies.values()];
  }
}

export const b64url = (b: Buffer) => b.toString('base64url');
export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

export async function get(jar: CookieJar, url: string, accept = 'text/html'): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(), accept } });
  jar.store(res);
  return res;
}

async function postForm(jar: CookieJar, url: string, form: Record<string, string>): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  jar.store(res);
  return res;
}

const hiddenCsrf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

export interface AuthorizeOptions {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  username: string;
  password: string;
  scope?: string;
}

/** runs /auth → login page → post → (auto-consent) → redirect_uri, and returns the code */
export async function authorize(o: AuthorizeOptions): Promise<string> {
  const jar = new CookieJar();
  const url = new URL(o.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    scope: o.scope ?? 'openid profile email outbreaks:read simulate:run',
    state: b64url(randomBytes(8)),
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
  }).toString();
  let res = await get(jar, url.href);
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.get('location');
    if (res.status === 200) {
      const html = await res.text();
      const csrf = hiddenCsrf(html);
      if (!csrf || !html.includes('name="password"')) throw new Error('expected the login page');
      const action = /<form method="post" action="([^"]+\/login)"/.exec(html)![1]!;
      res = await postForm(jar, new URL(action, url).href, { csrf, username: o.username, password: o.password });
      continue;
    }
    if (!location) throw new Error(`unexpected ${res.status} during sign-in`);
    const next = new URL(location, url);
    if (next.href.startsWith(o.redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code) throw new Error(`redirected without a code: ${next.search}`);
      return code;
    }
    res = await get(jar, next.href);
  }
  throw new Error('too many redirects');
}
