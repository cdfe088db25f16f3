/**
 * Console sessions (issue 18): one per sign-in, in the store (Redis when configured, so every
 * instance knows it), under a digest of the cookie's random id — the store never holds a value
 * that opens a session. A session ends after CONSOLE_IDLE_TIMEOUT without a request (15 minutes:
 * the store's time to live, renewed by each request), CONSOLE_SESSION_MAX after the sign-in
 * whatever happens (8 hours), at sign-out, and (index.ts) as soon as the user's security version
 * changes — a password change or reset, a disable, a change of second factors — or the tenant's
 * second-factor policy covers the user and the sign-in lacked the factor.
 */
import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { constantTimeEqual, digest, randomSecret } from '../security/crypto.ts';
import type { Store } from '../store/index.ts';

const COOKIE = 'tessera.console';

export interface ConsoleSession {
  userId: string;
  /** the user's security version at sign-in */
  version: number;
  /** epoch ms of the sign-in */
  createdAt: number;
  /** how the admin signed in (RFC 8176), checked against the tenant's policy at every request */
  amr: string[];
  /** uid of the tenant's browser session the sign-in came from (ended at sign-out) */
  sessionUid?: string | undefined;
}

export interface ConsoleSessions {
  /** the request's session and its CSRF token; null when there is none (or it ended) */
  current(ctx: Context): Promise<{ id: string; session: ConsoleSession; csrf: string } | null>;
  begin(ctx: Context, session: ConsoleSession): Promise<void>;
  end(ctx: Context): Promise<ConsoleSession | null>;
  verifyCsrf(id: string, token: string | null): boolean;
  /**
   * A single-use form token of session `id`: a random nonce and its HMAC, so issuing one costs
   * nothing and writes nothing; `useOnce` is true for the first use only (one atomic increment of
   * the nonce's counter: of parallel submissions exactly one gets true).
   */
  onceToken(id: string): string;
  useOnce(id: string, token: string | null): Promise<boolean>;
}

export interface ConsoleSessionOptions {
  store: Store;
  tenantId: string;
  cookiePath: string;
  secure: boolean;
  /** signs the CSRF tokens */
  key: string;
  /** CONSOLE_IDLE_TIMEOUT and CONSOLE_SESSION_MAX, in seconds */
  idleSeconds: number;
  maxSeconds: number;
}

export function createConsoleSessions(opts: ConsoleSessionOptions): ConsoleSessions {
  const keyOf = (id: string) => `tessera:console:${opts.tenantId}:${digest(id)}`;
  const cookie = { httpOnly: true, sameSite: 'strict' as const, secure: opts.secure, path: opts.cookiePath, signed: false, overwrite: true };
  const onceMac = (id: string, nonce: string) => createHmac('sha256', opts.key).update(`console-once\0${id}\0${nonce}`).digest('base64url');
  const csrfOf = (id: string) => createHmac('sha256', opts.key).update(`console-csrf\0${id}`).digest('base64url');
  const idOf = (ctx: Context) => {
    const id = ctx.cookies.get(COOKIE, { signed: false });
    return id && /^[\w-]{43}$/.test(id) ? id : undefined;
  };

  return {
    async current(ctx) {
      const id = idOf(ctx);
      if (!id) return null;
      const raw = await opts.store.get(keyOf(id));
      if (!raw) return null;
      const session = JSON.parse(raw) as ConsoleSession;
      const age = Date.now() - session.createdAt;
      if (age >= opts.maxSeconds * 1000) {
        await opts.store.delete(keyOf(id));
        return null;
      }
      // another 15 minutes, never past the 8 hours; only if it still exists (a sign-out meanwhile
      // is not undone by this request: found in review)
      if (!(await opts.store.touch(keyOf(id), Math.min(opts.idleSeconds * 1000, opts.maxSeconds * 1000 - age)))) return null;
      return { id, session, csrf: csrfOf(id) };
    },
    async begin(ctx, session) {
      // a new id at every sign-in: an id planted before it (session fixation) is never promoted
      const old = idOf(ctx);
      if (old) await opts.store.delete(keyOf(old));
      const id = randomSecret(32);
      await opts.store.set(keyOf(id), JSON.stringify(session), opts.idleSeconds * 1000);
      ctx.cookies.set(COOKIE, id, cookie);
    },
    async end(ctx) {
      const id = idOf(ctx);
      ctx.cookies.set(COOKIE, null, cookie);
      if (!id) return null;
      const raw = await opts.store.take(keyOf(id));
      return raw ? (JSON.parse(raw) as ConsoleSession) : null;
    },
    verifyCsrf: (id, token) => typeof token === 'string' && constantTimeEqual(token, csrfOf(id)),
    onceToken(id) {
      const nonce = randomSecret(18);
      return `${nonce}.${onceMac(id, nonce)}`;
    },
    async useOnce(id, token) {
      const [nonce, mac, extra] = (token ?? '').split('.');
      // only a nonce this server issued for this session has its MAC (which also bounds the key)
      if (!nonce || !mac || extra !== undefined || !constantTimeEqual(mac, onceMac(id, nonce))) return false;
      // remembered as long as the session can live: a token is never good twice
      return (await opts.store.increment(`tessera:console-once:${opts.tenantId}:${nonce}`, opts.maxSeconds * 1000)) === 1;
    },
  };
}
