import { startDept } from '../test/security/support.ts';
const d = await startDept('pglite');
const auth = new URL(d.disco.authorization_endpoint!);
const res = await fetch(`${auth.href}?client_id=${d.spa.clientId}&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fspa%2F&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&scope=openid&state=a%00b&nonce=%00`, { redirect: 'manual' });
console.log(res.status, res.headers.get('location'));
await d.server.stop();
