/**
 * Takes the items that match out of `items[from..]` into `taken`, keeping
 * the order of both. Returns the items kept, or undefined when nothing
 * matched (the common case: the caller keeps its array, nothing is
 * copied). `matches` is called once per item, in order: it may have side
 * effects (the consumer parks records as it finds them).
 */
export function takeMatching<T>(items: readonly T[], from: number, matches: (item: T) => boolean, taken: T[]): T[] | undefined {
  let kept: T[] | undefined;
  for (let i = from; i < items.length; i++) {
    const item = items[i] as T;
    if (matches(item)) {
      kept ??= items.slice(from, i);
      taken.push(item);
    } else {
      kept?.push(item);
    }
  }
  return kept;
}
