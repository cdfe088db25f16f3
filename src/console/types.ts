/** Shapes shared by the console's modules. */
import type { Context } from 'koa';
import type { Actor } from '../contract.ts';
import type { SafeHtml } from '../oidc/interactions/views.ts';
import type { UserRow } from '../repositories/users.ts';
import type { ServedTenant } from '../tenants/serve.ts';

export interface ConsolePage {
  title: string;
  content: SafeHtml;
  /** the page runs the console's one script (a copy button): CSP `script-src 'self'` */
  script?: boolean;
}

/** one request of a signed-in admin */
export interface ConsoleRequest {
  ctx: Context;
  tenant: ServedTenant;
  /** path of the console, e.g. `/t/dept/console` */
  home: string;
  user: UserRow;
  actor: Actor;
  csrf: string;
  /** one admin API call, as this admin */
  call(operation: string, input: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown }): Promise<unknown>;
  send(page: ConsolePage, status?: number): void;
  /**
   * single-use form tokens, for the forms whose answer shows a secret: sent again (a reload of the
   * answer), such a form does nothing instead of creating or rotating once more
   */
  once: { issue(): string; use(token: string | null): Promise<boolean> };
}
