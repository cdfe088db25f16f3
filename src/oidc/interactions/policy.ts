/**
 * oidc-provider's interaction policy (login, then consent) with one check of Tessera's added to
 * the consent prompt: `rs_scopes_not_granted`, when a requested API (resource) has scopes and the
 * signed-in user's roles grant none of those asked for. The consent step then ends the request
 * with `invalid_scope` (CONTRACT §4: the code flow follows the token endpoint's rule), instead of
 * issuing a code whose token would carry the API's audience and an empty scope.
 *
 * It sees the user's grants because getResourceServerInfo resolves, once a browser session has
 * an account, only the scopes that account's roles grant (oidc/provider.ts).
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { TenantModel } from '../model.ts';

export const NOT_GRANTED = 'rs_scopes_not_granted';

export function nothingGranted(model: TenantModel, ctx: KoaContextWithOIDC): boolean {
  const requested = ctx.oidc.requestParamScopes;
  for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
    if (!model.resources.get(indicator)?.scopes.length) continue;
    if (![...requested].some((scope) => server.scopes.has(scope))) return true;
  }
  return false;
}

export const SECOND_FACTOR_REQUIRED = 'second_factor_required';

/**
 * `needsSecondFactor`: whether the session's sign-in lacks a second factor that its user has, or
 * that the tenant's policy now requires of them. Such a session is asked to sign in again (the
 * login prompt, with its steps), so a session from before an enrolment or a policy change cannot
 * carry a password-only sign-in past the policy.
 */
export function interactionPolicyFor(model: TenantModel, needsSecondFactor: (ctx: KoaContextWithOIDC) => Promise<boolean>) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(SECOND_FACTOR_REQUIRED, 'a second factor is required', async (ctx: KoaContextWithOIDC) => {
      if (!ctx.oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return (await needsSecondFactor(ctx)) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  const consent = policy.get('consent')!;
  consent.checks.unshift(
    new interactionPolicy.Check(
      NOT_GRANTED,
      'none of the requested scopes is granted to this user on the requested resource',
      'invalid_scope',
      (ctx: KoaContextWithOIDC) => nothingGranted(model, ctx),
    ),
  );
  return policy;
}
