/**
 * A page of a list ordered by a key: the items whose key comes after the cursor (the last key
 * of the previous page), at most `limit`, and the next cursor. Keyset paging: an item that
 * went away between pages moves nothing. The fleet lists come whole from the cache.
 */
export function pageOf<T>(all: readonly T[], page: { limit: number; cursor?: string }, keyOf: (item: T) => string) {
  const sorted = [...all].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = page.cursor === undefined ? sorted : sorted.filter((x) => keyOf(x) > page.cursor!);
  const items = rest.slice(0, page.limit);
  return { items, nextCursor: rest.length > page.limit ? keyOf(items.at(-1)!) : null };
}
