/**
 * Replacements of two oidc-provider methods (9.13, lib/models/client.js): `Client.find` and
 * `Client.prototype.compareClientSecret`. Deviations: one Client instance per client-directory row
 * (upstream rebuilds the metadata, serialises and hashes it on every request; a row is replaced,
 * and the tenant rebuilt, whenever its client changes, so an instance kept for a row is never
 * stale), and secrets compared as keyed hashes instead of in clear.
 */
import type { Client, Provider } from 'oidc-provider';
import type { ClientDirectory } from './adapters/clients.ts';

export function patchClientLookup(provider: Provider, clients: ClientDirectory): void {
  const findClient = provider.Client.find.bind(provider.Client);
  const instances = new WeakMap<object, Client>();
  provider.Client.find = async function find(id: string) {
    const row = typeof id === 'string' && id ? await clients.get(id) : undefined;
    if (!row) return findClient(id);
    let client = instances.get(row);
    if (!client) {
      client = await findClient(id);
      if (client) instances.set(row, client);
    }
    return client;
  };
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientId: string }, actual: string) {
    return clients.verifySecret(this.clientId, actual);
  };
}
