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
  /** The member that must receive the record, or undefined when any member may. */
  ownerOf(partition: number, key: Uint8Array | undefined, offset: number): string | undefined;
  /** Whether ownership is decided per partition (PARTITIONED). */
  readonly perPartition: boolean;
}

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
    case SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED:
      return {
        perPartition: false,
        ownerOf: (partition, key, offset) =>
          rendezvousOwner(key === undefined ? keylessItem(partition, offset) : keyItem(key), members),
      };
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
