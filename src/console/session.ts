/**
 * Console sessions (issue 18): one per sign-in, in the store (Redis when configured, so every
 * instance knows it), under a digest of the cookie's random id — the store never holds a value
 * that opens a session. A session ends after 15 minutes without a request (the store's time to
 * live, renewed by each request), 8 hours after the sign-in whatever happens, at sign-out, and as
 * soon as the user's security version changes (a password change or reset, a disable, a change of
 * second factors: services raise it) — so an admin whose account changed is signed out at once.
 */
import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { digest, randomSecret } from '../security/crypto.ts';
import type { Store } from '../store/index.ts';
import { sameSecret } from '../oidc/interactions/first-party.ts';

export const CONSOLE_IDLE_SECONDS = 15 * 60;
export const CONSOLE_MAX_SECONDS = 8 * 60 * 60;
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
}

export function createConsoleSessions(opts: { store: Store; tenantId: string; cookiePath: string; secure: boolean; key: string }): ConsoleSessions {
  const keyOf = (id: string) => `tessera:console:${opts.tenantId}:${digest(id)}`;
  const cookie = { httpOnly: true, sameSite: 'strict' as const, secure: opts.secure, path: opts.cookiePath, signed: false, overwrite: true };
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
      if (age >= CONSOLE_MAX_SECONDS * 1000) {
        await opts.store.delete(keyOf(id));
        return null;
      }
      // another 15 minutes, never past the 8 hours; only if it still exists (a sign-out meanwhile
      // is not undone by this request: found in review)
      if (!(await opts.store.touch(keyOf(id), Math.min(CONSOLE_IDLE_SECONDS * 1000, CONSOLE_MAX_SECONDS * 1000 - age)))) return null;
      return { id, session, csrf: csrfOf(id) };
    },
    async begin(ctx, session) {
      // a new id at every sign-in: an id planted before it (session fixation) is never promoted
      const old = idOf(ctx);
      if (old) await opts.store.delete(keyOf(old));
      const id = randomSecret(32);
      await opts.store.set(keyOf(id), JSON.stringify(session), CONSOLE_IDLE_SECONDS * 1000);
      ctx.cookies.set(COOKIE, id, cookie);
    },
    async end(ctx) {
      const id = idOf(ctx);
      ctx.cookies.set(COOKIE, null, cookie);
      if (!id) return null;
      const raw = await opts.store.take(keyOf(id));
      return raw ? (JSON.parse(raw) as ConsoleSession) : null;
    },
    verifyCsrf: (id, token) => typeof token === 'string' && sameSecret(token, csrfOf(id)),
  };
}
