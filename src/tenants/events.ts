/**
 * TenantEvents (declared by the services, services/deps.ts): what a change to a tenant tells every
 * instance. Given to the services at construction; the one place that publishes them. A change is heard at once by this process's
 * listener (read-your-writes on the instance that made it) and published through the store
 * (Redis pub/sub when configured) to every other instance and to the CLI's servers. Pub/sub may
 * lose a message: the tenant's version, raised in the same transaction as the change, bounds the
 * damage (tenants/pool.ts `refresh`).
 */
import type { TenantEvents } from '../services/deps.ts';
import type { Store } from '../store/index.ts';

/** pub/sub channels every instance (and the CLI) uses */
export const CHANNEL_TENANT_CHANGED = 'tenant-changed';
export const CHANNEL_TENANT_CREATED = 'tenant-created';

export type { TenantEvents };

export interface TenantEventHub extends TenantEvents {
  /** this process's listener, and the store's messages from every other publisher */
  listen(listener: TenantEvents): Promise<void>;
  /** resolves once every publish so far has been answered: true when all were delivered */
  settled(): Promise<boolean>;
}

export function createTenantEvents(store: Store): TenantEventHub {
  const listeners: TenantEvents[] = [];
  const pending = new Set<Promise<boolean>>();
  const publish = (channel: string, message: string) => {
    const p = store.publish(channel, message).then(
      () => true,
      () => false,
    );
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  return {
    changed(tenantId) {
      for (const l of listeners) l.changed(tenantId);
      publish(CHANNEL_TENANT_CHANGED, tenantId);
    },
    created(slug) {
      for (const l of listeners) l.created(slug);
      publish(CHANNEL_TENANT_CREATED, slug);
    },
    async listen(listener) {
      listeners.push(listener);
      await Promise.all([
        store.subscribe(CHANNEL_TENANT_CHANGED, (id) => listener.changed(id)),
        store.subscribe(CHANNEL_TENANT_CREATED, (slug) => listener.created(slug)),
      ]);
    },
    async settled() {
      return (await Promise.all([...pending])).every(Boolean);
    },
  };
}
