/**
 * Who in a subscription gets a record, by mode (DESIGN.md "Fanout"):
 * PARTITIONED gives each partition to one member by rendezvous hashing of
 * the partition over the members; KEY_SHARED gives each key to one member by
 * rendezvous hashing of the key; SHARED lets any member with credit take it.
 * Rendezvous hashing moves only the changed member's share when members come
 * and go, so ownership moves minimally. Keyless records in KEY_SHARED are
 * spread by partition and offset so they still go to one member each.
 */
import { keyItem, partitionItem, rendezvousOwner } from '@braid/partitioning';
import { SubscriptionMode } from '@braid/proto';

/** Decides the owner of a record; `undefined` means "any member" (SHARED) or "nobody" (no members). */
export interface Ownership {
  /**
   * The member that must receive the record, or undefined when any member
   * may. `keyId` (a string naming the key, if any) lets the rule remember
   * the owner of a key instead of hashing it over every member again.
   */
  ownerOf(partition: number, key: Uint8Array | undefined, offset: number, keyId?: string): string | undefined;
  /** Whether ownership is decided per partition (PARTITIONED). */
  readonly perPartition: boolean;
}

/** Key owners a KEY_SHARED rule remembers before it starts over. */
const maxRememberedKeys = 100_000;

function keylessItem(partition: number, offset: number): Uint8Array {
  const item = new Uint8Array(12);
  const view = new DataView(item.buffer);
  view.setUint32(0, partition);
  view.setUint32(4, Math.floor(offset / 2 ** 32));
  view.setUint32(8, offset >>> 0);
  return item;
}

/** The ownership rule of `mode` over `members` (sorted or not; ids are compared as bytes). */
export function ownership(mode: SubscriptionMode, topic: string, members: readonly string[]): Ownership {
  switch (mode) {
    case SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED: {
      // Owners of recent keys; a rule lives until the members change.
      const owners = new Map<string, string | undefined>();
      return {
        perPartition: false,
        ownerOf: (partition, key, offset, keyId) => {
          if (key === undefined) return rendezvousOwner(keylessItem(partition, offset), members);
          if (keyId === undefined) return rendezvousOwner(keyItem(key), members);
          if (owners.has(keyId)) return owners.get(keyId);
          if (owners.size >= maxRememberedKeys) owners.clear();
          const owner = rendezvousOwner(keyItem(key), members);
          owners.set(keyId, owner);
          return owner;
        },
      };
    }
    case SubscriptionMode.SUBSCRIPTION_MODE_SHARED:
      return { perPartition: false, ownerOf: () => undefined };
    default: {
      const owners = new Map<number, string | undefined>();
      return {
        perPartition: true,
        ownerOf: (partition) => {
          if (!owners.has(partition)) owners.set(partition, rendezvousOwner(partitionItem(topic, partition), members));
          return owners.get(partition);
        },
      };
    }
  }
}
