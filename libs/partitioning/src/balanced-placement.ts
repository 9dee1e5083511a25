/**
 * Placement of a topic's partitions on brokers: rendezvous hashing with a
 * cap (each member takes at most ceil(items / members) items). Plain
 * rendezvous spreads items only on average (12 partitions over 3 brokers
 * come out 4/4/4 about a third of the time, 6/3/3 now and then); the cap
 * makes every spread even, while each item still goes to the highest-ranked
 * member with room, so the placement stays deterministic for a member set
 * and a new member takes over roughly its share of the items, mostly ones
 * it ranks first for.
 */
import { rendezvousRank } from './rendezvous.js';

/**
 * The member of each item, in `items` order: each item's highest-ranked
 * member (see {@link rendezvousRank}) that has fewer than
 * ceil(items / members) items so far. Empty when `members` is empty.
 */
export function balancedRendezvous(items: readonly Uint8Array[], members: readonly string[]): string[] {
  const distinct = [...new Set(members)];
  if (distinct.length === 0) return [];
  const cap = Math.ceil(items.length / distinct.length);
  const taken = new Map<string, number>();
  return items.map((item) => {
    const ranked = rendezvousRank(item, distinct);
    // Some member always has room: cap * members >= items.
    const owner = ranked.find((member) => (taken.get(member) ?? 0) < cap) ?? ranked[0] ?? '';
    taken.set(owner, (taken.get(owner) ?? 0) + 1);
    return owner;
  });
}
