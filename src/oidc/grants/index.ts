/**
 * The grants a tenant's provider serves beyond oidc-provider's own (client_credentials replaced,
 * password added) and Tessera's wrappers of its refresh_token and authorization_code grants.
 */
import type { Provider } from 'oidc-provider';
import { signInDepsOf, type OidcShared, type OidcTenant } from '../tenant.ts';
import { burnCodeOnWrongVerifier } from './authorization-code.ts';
import * as clientCredentials from './client-credentials.ts';
import * as password from './password.ts';
import { commitRotationOnSuccess } from './refresh-token.ts';

export function registerGrants(provider: Provider, tenant: OidcTenant, shared: OidcShared): void {
  const { model, clients } = tenant;
  provider.registerGrantType(clientCredentials.grantType, clientCredentials.buildHandler({ provider, model, clients }), clientCredentials.parameters, [
    'resource',
  ]);
  provider.registerGrantType(
    password.grantType,
    password.buildHandler({ provider, model, clients, signIn: signInDepsOf(tenant, shared) }),
    password.parameters,
    ['resource'],
  );
  commitRotationOnSuccess(provider, tenant.repos.artifacts);
  burnCodeOnWrongVerifier(provider);
}
