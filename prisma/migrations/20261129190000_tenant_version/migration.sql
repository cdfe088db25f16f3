-- Issue 14 (reliability): a per-tenant version, raised in the same transaction as every change to
-- what a tenant's cached provider is built from. Instances compare it with the version they built
-- from, at most TENANT_CACHE_MAX_STALENESS seconds apart, so a lost invalidation cannot keep a
-- deleted client or a removed role alive.

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 0;
