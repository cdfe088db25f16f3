/** Cursor pagination shared by every list: `{ items, nextCursor }`, the cursor is opaque to callers. */
export interface PageInput {
  cursor?: string | undefined;
  limit?: number | undefined;
}
export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export async function paginate<R extends { id: string }, T>(
  input: PageInput,
  fetch: (opts: { after?: string | undefined; limit: number }) => Promise<R[]>,
  map: (row: R) => T,
): Promise<PageOf<T>> {
  const limit = Math.min(MAX_LIMIT, Math.max(1, input.limit ?? DEFAULT_LIMIT));
  const afterId = input.cursor ? Buffer.from(input.cursor, 'base64url').toString('utf8') : undefined;
  const rows = await fetch({ after: afterId, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const more = rows.length > limit;
  return {
    items: items.map(map),
    nextCursor: more ? Buffer.from(items[items.length - 1]!.id, 'utf8').toString('base64url') : null,
  };
}
