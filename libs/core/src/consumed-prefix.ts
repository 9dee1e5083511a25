/**
 * Arrays consumed from a moving head (queues that hand out their first
 * item in O(1) by advancing an index instead of `shift()`): when to let go
 * of the consumed prefix.
 */

/**
 * The array to go on with once `items[0, head)` has been consumed: a fresh
 * empty array when everything is consumed, the unconsumed rest when the
 * consumed prefix is at least `minHead` long and outweighs it, else
 * undefined (keep `items` and `head` as they are). The caller sets its head
 * to 0 whenever an array is returned. Copying only past `minHead` and half
 * the array keeps it amortised O(1) per item.
 */
export function dropConsumed<T>(items: T[], head: number, minHead: number): T[] | undefined {
  if (head === items.length) return [];
  if (head >= minHead && head * 2 >= items.length) return items.slice(head);
  return undefined;
}
