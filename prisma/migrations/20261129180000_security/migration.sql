-- Issue 13 (security): case-insensitive usernames, per-subject token revocation, the client
-- address in audit events, and Session rows without the cookie value.

-- Usernames match case-insensitively after Unicode NFC (`Ann` and `ann` are one user). The key of
-- an existing user is computed here by the database, and the application computes it the same way
-- (NFC, then lower case) for every later user. If two existing users collide, the older keeps its
-- name and the younger's key gets a `#<id>` suffix: it can no longer sign in under that name until
-- an admin recreates it (the audit trail keeps both).
ALTER TABLE "users" ADD COLUMN "username_key" TEXT;
UPDATE "users" SET "username_key" = lower(normalize("username", NFC));
UPDATE "users" u SET "username_key" = u."username_key" || '#' || u."id"::text
  FROM "users" o
  WHERE o."tenant_id" = u."tenant_id" AND o."username_key" = u."username_key"
    AND (o."created_at", o."id"::text) < (u."created_at", u."id"::text);
ALTER TABLE "users" ALTER COLUMN "username_key" SET NOT NULL;

-- DropIndex
DROP INDEX "users_tenant_id_username_key";

-- CreateIndex
CREATE UNIQUE INDEX "users_tenant_id_username_key_key" ON "users"("tenant_id", "username_key");

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "address" TEXT;

-- CreateTable
CREATE TABLE "revoked_subjects" (
    "tenant_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "not_before" INTEGER NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "revoked_subjects_pkey" PRIMARY KEY ("tenant_id","subject")
);

-- CreateIndex
CREATE INDEX "revoked_subjects_expires_at_idx" ON "revoked_subjects"("expires_at");

-- AddForeignKey
ALTER TABLE "revoked_subjects" ADD CONSTRAINT "revoked_subjects_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Sessions are stored under a digest of their cookie value like every other artifact, and the value
-- itself (`jti`) no longer stays in the payload.
UPDATE "oidc_artifacts" SET "payload" = "payload" - 'jti' WHERE "model" = 'Session';
