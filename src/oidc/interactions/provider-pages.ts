/**
 * The pages oidc-provider itself renders, in Tessera's look and under the same CSP: the error
 * page (unregistered redirect_uri and other requests that must not redirect), the RP-initiated
 * logout confirmation and the signed-out page.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ClientDirectory } from '../adapters/clients.ts';
import { originsOf, sendPage, type PageTenant } from './page.ts';
import { render, SafeHtml } from './views.ts';

interface ErrorOut {
  error: string;
  error_description?: string;
}

export function providerPages(page: PageTenant, clients: ClientDirectory) {
  const clientName = async (ctx: KoaContextWithOIDC) => {
    const id = ctx.oidc.client?.clientId;
    return id ? ((await clients.get(id))?.name ?? id) : undefined;
  };

  return {
    async renderError(ctx: KoaContextWithOIDC, out: ErrorOut, err: Error) {
      const status = Math.max(ctx.status, 400);
      const exposed = (err as Error & { expose?: boolean }).expose === true && status < 500;
      sendPage(ctx, page, {
        status,
        title: status >= 500 ? 'Something went wrong' : 'Sign-in cannot continue',
        content: render('error.html', {
          message: exposed ? (out.error_description ?? out.error) : 'The service is temporarily unavailable.',
          hint: 'Go back to the application and start again. If this keeps happening, contact your administrator.',
          code: exposed ? out.error : 'server_error',
        }),
      });
    },

    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      const name = await clientName(ctx);
      const id = ctx.oidc.client?.clientId;
      const row = id ? await clients.get(id) : undefined;
      sendPage(ctx, page, {
        title: 'Sign out',
        formTargets: originsOf(row?.postLogoutRedirectUris ?? []),
        // `form` is oidc-provider's own markup: the action URL and its xsrf token, nothing else
        content: render('logout.html', { tenant: page.name, client: name ? ` and ${name}` : '', form: new SafeHtml(form) }),
      });
    },

    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      const name = await clientName(ctx);
      sendPage(ctx, page, { title: 'Signed out', content: render('logged-out.html', { client: name ? ` of ${name}` : '' }) });
    },
  };
}
