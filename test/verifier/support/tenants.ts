/**
 * Seeds a running Tessera with the epidemic API in two tenants (health-a, health-b) and
 * client_credentials clients acting as analyst / viewer subjects, and fetches their tokens.
 */
import type { TestServer } from '../../helpers/tessera.ts';
import { discover, tokenRequest } from '../../helpers/oauth.ts';

export const API = 'https://epi.example.org/api';

export interface Client {
  clientId: string;
  clientSecret: string;
}

export interface Seeded {
  issuerA: string;
  issuerB: string;
  analystA: Client;
  viewerA: Client;
  analystB: Client;
  /** a fresh access token for the client, from the tenant that owns it */
  token(client: Client): Promise<string>;
}

export async function seedEpidemicTenants(server: TestServer): Promise<Seeded> {
  const { services } = server.tessera;
  const owners = new Map<string, string>();
  const clients: Record<string, Client> = {};
  for (const [slug, alg] of [
    ['health-a', 'ES256'],
    ['health-b', 'EdDSA'],
  ] as const) {
    const t = await services.tenants.create({ slug, name: slug, signingAlg: alg });
    const s = services.forTenant(t.id);
    await s.resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'], accessTokenTtl: 600 });
    await s.roles.create({
      name: 'analyst',
      permissions: [
        { resource: API, scope: 'outbreaks:read' },
        { resource: API, scope: 'simulate:run' },
      ],
    });
    await s.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
    for (const role of ['analyst', 'viewer']) {
      const c = (await s.clients.create({ name: `${role} job`, grantTypes: ['client_credentials'], roles: [role] })) as Client;
      clients[`${role}:${slug}`] = c;
      owners.set(c.clientId, slug);
    }
  }
  const endpoints = new Map<string, string>();
  for (const slug of ['health-a', 'health-b']) endpoints.set(slug, (await discover(server.url, slug)).token_endpoint!);
  return {
    issuerA: `${server.url}/t/health-a`,
    issuerB: `${server.url}/t/health-b`,
    analystA: clients['analyst:health-a']!,
    viewerA: clients['viewer:health-a']!,
    analystB: clients['analyst:health-b']!,
    async token(client) {
      const endpoint = endpoints.get(owners.get(client.clientId)!)!;
      const res = await tokenRequest(endpoint, { grant_type: 'client_credentials', resource: API }, client);
      if (res.status !== 200) throw new Error(`token request answered ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token as string;
    },
  };
}
