/**
 * The consent prompt. Third-party clients show what they ask for (OIDC scopes and API scopes)
 * and wait for Allow or Deny; first-party clients (ClientRow.firstParty) are granted at once,
 * without a page. Either way the grant holds exactly what oidc-provider reported missing.
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { describeOidcScope, describeResourceScope } from './messages.ts';
import { sendInteractionPage } from './page.ts';
import type { InteractionContext } from './types.ts';
import { join, render } from './views.ts';

type Interaction = Awaited<ReturnType<InteractionContext['deps']['provider']['interactionDetails']>>;

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

const detailsOf = (interaction: Interaction) => interaction.prompt.details as ConsentDetails;

export async function showConsent(ctx: Context, ic: InteractionContext, interaction: Interaction): Promise<void> {
  const { deps, uid, client } = ic;
  const details = detailsOf(interaction);
  const accountId = interaction.session?.accountId;
  const user = accountId ? await deps.repos.users.findById(accountId) : null;
  const lines = (details.missingOIDCScope ?? []).map(describeOidcScope);
  for (const [audience, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    const name = deps.model.resources.get(audience)?.name ?? audience;
    for (const scope of scopes) lines.push(describeResourceScope(scope, name));
  }
  const base = `${deps.basePath}/interaction/${uid}`;
  const csrf = deps.csrf.issue(ctx, uid);
  sendInteractionPage(ctx, ic, {
    title: 'Allow access?',
    content: render('consent.html', {
      client: client.name,
      username: user?.username ?? 'your account',
      items: join(lines.map((text) => render('consent-item.html', { text }))),
      action: `${base}/confirm`,
      abort: `${base}/abort`,
      csrf,
    }),
  });
}

/** records the consent in a grant and returns the interaction result */
export async function grantConsent(ic: InteractionContext, interaction: Interaction): Promise<InteractionResults> {
  const { provider } = ic.deps;
  const details = detailsOf(interaction);
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: interaction.session!.accountId, clientId: ic.client.clientId });
  if (!grant) throw new Error('the grant of this interaction is gone');
  if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [audience, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(audience, scopes.join(' '));
  const grantId = await grant.save();
  return { consent: { grantId } };
}
