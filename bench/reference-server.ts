/**
 * The bare oidc-provider reference for the benchmarks: in-memory adapter, one static client,
 * ES256 JWT access tokens for one resource — what a team would get from oidc-provider alone.
 *   PORT=… npx tsx bench/reference-server.ts
 */
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { REFERENCE_API, REFERENCE_CLIENT } from './lib.ts';

const port = Number(process.env.PORT ?? 4000);
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
const provider = new Provider(`http://localhost:${port}`, {
  clients: [{ ...REFERENCE_CLIENT, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], id_token_signed_response_alg: 'ES256' }],
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => REFERENCE_API,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: REFERENCE_API,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.listen(port, () => process.stdout.write(`reference listening on ${port}\n`));
// exit normally on SIGTERM, so `--cpu-prof` can write its profile
process.on('SIGTERM', () => process.exit(0));
