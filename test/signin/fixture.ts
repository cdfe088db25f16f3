/**
 * A health department for the sign-in tests, on a running test server: `dept` seeded as in
 * helpers/department.ts, the users `alice` (analyst, viewer), `victor` (viewer) and `dana` (viewer,
 * disabled), two staff apps with the password grant and a `client_credentials` job holding `viewer`.
 */
import type { Backend, TestServer } from '../helpers/tessera.ts';
import { startTestServer } from '../helpers/tessera.ts';
import { discover } from '../helpers/oauth.ts';
import { API, seedDepartment } from '../helpers/department.ts';

export { API };
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
  const { tenant: t, s } = await seedDepartment(services);
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
