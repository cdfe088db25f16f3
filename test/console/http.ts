/**
 * The console over plain HTTP: a cookie jar, redirects followed by hand, sign-in at the login page.
 * Every request on a new connection (`connection: close`): a test that is busy for a few seconds
 * between two requests otherwise reuses a keep-alive connection the server closes at that very
 * moment (its 5 s keep-alive timeout), and fetch fails with ECONNRESET (seen once in CI).
 */
import type { CookieJar } from '../browser/http-flow.ts';

export async function get(jar: CookieJar, url: string): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(), accept: 'text/html', connection: 'close' } });
  jar.store(res);
  return res;
}

export const hidden = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export async function post(jar: CookieJar, url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', connection: 'close', ...headers },
    body,
  });
  jar.store(res);
  return res;
}

/** follows redirects by hand from `url`, signing in at the login page, until a page answers (or a redirect to `until`) */
export async function browse(
  jar: CookieJar,
  url: string,
  who?: { username: string; password: string },
  until?: RegExp,
): Promise<{ res: Response; html: string; url: string }> {
  let res = await get(jar, url);
  let at = url;
  for (let hops = 0; hops < 12; hops++) {
    const location = res.headers.get('location');
    if (location) {
      at = new URL(location, at).href;
      if (until?.test(at)) return { res, html: '', url: at };
      res = await get(jar, at);
      continue;
    }
    const html = await res.text();
    if (who && res.status === 200 && html.includes('name="password"') && /action="([^"]+\/login)"/.test(html)) {
      const action = /<form method="post" action="([^"]+\/login)"/.exec(html)![1]!;
      res = await post(jar, new URL(action, at).href, { csrf: hidden(html), username: who.username, password: who.password });
      who = undefined;
      continue;
    }
    return { res, html, url: at };
  }
  throw new Error('too many redirects');
}
