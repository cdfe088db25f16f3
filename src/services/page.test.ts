/**
 * Cursor pagination: the limit (default, clamp), the one extra row that tells whether there is a
 * next page, the opaque base64url cursor and the mapping of the rows returned.
 */
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMIT, MAX_LIMIT, paginate } from './page.ts';

interface Row {
  id: string;
  n: number;
}

const rows = (count: number): Row[] => Array.from({ length: count }, (_, i) => ({ id: `r${i + 1}`, n: i + 1 }));

/** a fetch that records what it was asked and answers with `answer` */
function fetchOf(answer: Row[]) {
  return vi.fn(async (_opts: { after?: string | undefined; limit: number }): Promise<Row[]> => answer);
}

describe('paginate', () => {
  it('exports 50 as the default limit and 200 as the maximum', () => {
    expect(DEFAULT_LIMIT).toBe(50);
    expect(MAX_LIMIT).toBe(200);
  });

  it('asks for 50 + 1 rows by default, from the start, and returns 50 with a cursor when there are more', async () => {
    const fetch = fetchOf(rows(51));
    const page = await paginate({}, fetch, (r) => r.n);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith({ after: undefined, limit: 51 });
    expect(page.items).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // 'r50' in base64url
    expect(page.nextCursor).toBe('cjUw');
  });

  it('clamps the limit to [1, 200] and always asks for one row more', async () => {
    const cases: [number, number][] = [
      [-5, 2],
      [0, 2],
      [1, 2],
      [2, 3],
      [199, 200],
      [200, 201],
      [201, 201],
      [10_000, 201],
    ];
    for (const [limit, asked] of cases) {
      const fetch = fetchOf([]);
      await paginate({ limit }, fetch, (r) => r);
      expect(fetch.mock.calls).toEqual([[{ after: undefined, limit: asked }]]);
    }
  });

  it('returns at most `limit` items, even when given more', async () => {
    const fetch = fetchOf(rows(3));
    const page = await paginate({ limit: 1 }, fetch, (r) => r.id);
    expect(page).toEqual({ items: ['r1'], nextCursor: 'cjE' });
  });

  it('caps a page at 200 items when asked for more', async () => {
    const fetch = fetchOf(rows(201));
    const page = await paginate({ limit: 500 }, fetch, (r) => r.n);
    expect(page.items.length).toBe(200);
    expect(page.items[199]).toBe(200);
    // 'r200' in base64url
    expect(page.nextCursor).toBe('cjIwMA');
  });

  it('has no next cursor when the fetch returns exactly `limit` rows, or fewer, or none', async () => {
    expect(await paginate({ limit: 3 }, fetchOf(rows(3)), (r) => r.id)).toEqual({ items: ['r1', 'r2', 'r3'], nextCursor: null });
    expect(await paginate({ limit: 3 }, fetchOf(rows(2)), (r) => r.id)).toEqual({ items: ['r1', 'r2'], nextCursor: null });
    expect(await paginate({ limit: 3 }, fetchOf([]), (r) => r.id)).toEqual({ items: [], nextCursor: null });
  });

  it('points the cursor at the last item returned, not at the extra row', async () => {
    const page = await paginate({ limit: 2 }, fetchOf(rows(3)), (r) => r.id);
    expect(page.items).toEqual(['r1', 'r2']);
    expect(page.nextCursor).toBe(Buffer.from('r2', 'utf8').toString('base64url'));
    expect(page.nextCursor).toBe('cjI');
  });

  it('encodes the cursor as unpadded base64url of the UTF-8 id, and hands it back as `after`', async () => {
    // an id whose plain base64 would be 'w7w+P37DqQ==' (a '+' and padding)
    const id = 'ü>?~é';
    const first = await paginate(
      { limit: 1 },
      fetchOf([
        { id, n: 1 },
        { id: 'zz', n: 2 },
      ]),
      (r) => r.id,
    );
    expect(first.nextCursor).toBe('w7w-P37DqQ');
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const fetch = fetchOf([{ id: 'zz', n: 2 }]);
    const second = await paginate({ limit: 1, cursor: first.nextCursor ?? undefined }, fetch, (r) => r.id);
    expect(fetch.mock.calls).toEqual([[{ after: id, limit: 2 }]]);
    expect(second).toEqual({ items: ['zz'], nextCursor: null });
  });

  it('decodes a cursor given by the caller to the id it stands for', async () => {
    const fetch = fetchOf([]);
    await paginate({ cursor: 'dXNyXzQy' }, fetch, (r) => r);
    expect(fetch.mock.calls).toEqual([[{ after: 'usr_42', limit: 51 }]]);
  });

  it('treats an empty cursor as the first page', async () => {
    const fetch = fetchOf([]);
    await paginate({ cursor: '', limit: 5 }, fetch, (r) => r);
    expect(fetch.mock.calls).toEqual([[{ after: undefined, limit: 6 }]]);
  });

  it('maps each returned row, in order, and never the extra row', async () => {
    const map = vi.fn((r: Row) => ({ label: `#${r.n}` }));
    const page = await paginate({ limit: 2 }, fetchOf(rows(3)), map);
    expect(page.items).toEqual([{ label: '#1' }, { label: '#2' }]);
    expect(map).toHaveBeenCalledTimes(2);
    expect(map.mock.calls.map((c) => c[0].id)).toEqual(['r1', 'r2']);
  });
});
