-- AlterTable
ALTER TABLE "tenants" DROP COLUMN "settings";

-- AlterTable
ALTER TABLE "users" DROP COLUMN "last_login_at";
