/** What a repository runs its queries on: the client, or a transaction of it. */
import type { PrismaClient, Tx } from '../db/database.ts';

export type Db = PrismaClient | Tx;

/** cursor pagination: rows ordered by id, the cursor is the last id of the previous page */
export interface Page {
  after?: string | undefined;
  limit: number;
}
export const after = (p: Page) => (p.after ? { id: { gt: p.after } } : {});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ids are UUID columns: anything else can match nothing (and must not reach PostgreSQL as a cast error) */
export const isUuid = (id: string) => UUID.test(id);
