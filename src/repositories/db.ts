/** What a repository runs its queries on: the client, or a transaction of it. */
import type { PrismaClient, Tx } from '../db/database.ts';

export type Db = PrismaClient | Tx;
