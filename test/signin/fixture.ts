/** A health department with staff, roles and clients, on a running test server. */
import type { Backend, TestServer } from '../helpers/tessera.ts';
import { startTestServer } from '../helpers/tessera.ts';
import { discover } from '../helpers/oauth.ts';

export const API = 'https://epi.example.org/api';
export const PASSWORDS = { alice: 'alice-correct-horse', victor: 'victor-battery-staple', dana: 'dana-disabled-one' };

export interface Department {
  server: TestServer;
  tenantId: string;
  token: string;
  users: { alice: string; victor: string; dana: string };
  webapp: { clientId: string; clientSecret: string };
  other: { clientId: string; clientSecret: string };
  machine: { clientId: string; clientSecret: string };
}

export async function startDepartment(backend: Backend, env: Record<string, string> = {}): Promise<Department> {
  const server = await startTestServer(backend, { TRUST_PROXY: 'true', ...env });
  const { services } = server.tessera;
  const t = await services.tenants.create({ slug: 'dept', name: 'Department of Health' });
  const s = services.forTenant(t.id);
  await s.resources.create({ audience: API, name: 'Epidemic model', scopes: ['outbreaks:read', 'simulate:run'] });
  await s.roles.create({
    name: 'analyst',
    permissions: [
      { resource: API, scope: 'outbreaks:read' },
      { resource: API, scope: 'simulate:run' },
    ],
  });
  await s.roles.create({ name: 'viewer', permissions: [{ resource: API, scope: 'outbreaks:read' }] });
  const alice = await s.users.create({ username: 'alice', password: PASSWORDS.alice, email: 'alice@dept.example', roles: ['analyst', 'viewer'] });
  const victor = await s.users.create({ username: 'victor', password: PASSWORDS.victor, roles: ['viewer'] });
  const dana = await s.users.create({ username: 'dana', password: PASSWORDS.dana, roles: ['viewer'] });
  await s.users.update(dana.id, { disabled: true });
  const webapp = await s.clients.create({ name: 'dashboard', grantTypes: ['password', 'refresh_token'], defaultResource: API });
  const other = await s.clients.create({ name: 'other app', grantTypes: ['password', 'refresh_token'], defaultResource: API });
  const machine = await s.clients.create({ name: 'nightly', grantTypes: ['client_credentials'], roles: ['viewer'], defaultResource: API });
  const disco = await discover(server.url, 'dept');
  return {
    server,
    tenantId: t.id,
    token: disco.token_endpoint!,
    users: { alice: alice.id, victor: victor.id, dana: dana.id },
    webapp: webapp as Department['webapp'],
    other: other as Department['other'],
    machine: machine as Department['machine'],
  };
}
