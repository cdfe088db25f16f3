/** Pub/sub channels every instance (and the CLI) uses to tell the others that a tenant changed. */
export const CHANNEL_TENANT_CHANGED = 'tenant-changed';
export const CHANNEL_TENANT_CREATED = 'tenant-created';
