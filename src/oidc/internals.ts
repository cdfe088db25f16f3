/**
 * The one module that deep-imports oidc-provider/lib (ARCHITECTURE rule 7). Everything here is
 * internal to oidc-provider 9.13 and must be re-checked when it is upgraded.
 *  - resolveRequestedResources: lib/helpers/grant_authorization.js — the resource-indicator
 *    resolution (defaultResource + getResourceServerInfo) the built-in grants use.
 */
// @ts-expect-error: internal module without type declarations
import * as grantHelpers from 'oidc-provider/lib/helpers/grant_authorization.js';
import type { KoaContextWithOIDC, Provider, ResourceServerInstance } from 'oidc-provider';

interface GrantHelpers {
  resolveRequestedResources(provider: Provider, ctx: KoaContextWithOIDC): Promise<ResourceServerInstance[]>;
}

export const resolveRequestedResources = (grantHelpers as GrantHelpers).resolveRequestedResources;

/**
 * The provider's registered grant handlers (lib/helpers/weak_cache.js holds them per provider),
 * so that a policy (rate limits) can wrap every grant, built-in ones included.
 */
// @ts-expect-error: internal module without type declarations
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

export function grantTypeHandlers(provider: Provider): Map<string, GrantHandler> {
  return (instance as (p: Provider) => { grantTypeHandlers: Map<string, GrantHandler> })(provider).grantTypeHandlers;
}
