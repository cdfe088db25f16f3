/**
 * A department for browser sign-in: the signin fixture's staff and API, plus a first-party SPA
 * (public, code + refresh), a third-party app that must ask for consent, and a confidential
 * client that may introspect.
 */
import type { Backend } from '../helpers/tessera.ts';
import { discover } from '../helpers/oauth.ts';
import { API, PASSWORDS, startDepartment, type Department } from '../signin/fixture.ts';

export { API, PASSWORDS };

export interface BrowserDepartment extends Department {
  issuer: string;
  discovery: Record<string, string>;
  spa: { clientId: string; redirectUri: string };
  thirdParty: { clientId: string; redirectUri: string };
  /** a confidential client of the tenant: introspects */
  introspector: { clientId: string; clientSecret: string };
}

export async function startBrowserDepartment(backend: Backend, spaRedirectUri: string): Promise<BrowserDepartment> {
  const d = await startDepartment(backend);
  const s = d.server.tessera.services.forTenant(d.tenantId);
  const spa = await s.clients.create({
    name: 'Epidemic dashboard',
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [spaRedirectUri],
    tokenEndpointAuthMethod: 'none',
    defaultResource: API,
    firstParty: true,
  });
  const thirdPartyRedirect = 'http://127.0.0.1:9/partner/callback';
  const thirdParty = await s.clients.create({
    name: 'Partner Analytics',
    grantTypes: ['authorization_code'],
    redirectUris: [thirdPartyRedirect],
    tokenEndpointAuthMethod: 'none',
    defaultResource: API,
  });
  const issuer = `${d.server.url}/t/dept`;
  return {
    ...d,
    issuer,
    discovery: await discover(d.server.url, 'dept'),
    spa: { clientId: spa.clientId, redirectUri: spaRedirectUri },
    thirdParty: { clientId: thirdParty.clientId, redirectUri: thirdPartyRedirect },
    introspector: d.webapp,
  };
}
