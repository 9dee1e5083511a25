import { describe, expect, it } from 'vitest';
import { balancedRendezvous } from './balanced-placement.js';
import { partitionItem } from './item-encoding.js';
import { rendezvousOwner } from './rendezvous.js';

const items = (topic: string, count: number): Uint8Array[] => Array.from({ length: count }, (_, p) => partitionItem(topic, p));
const counts = (owners: readonly string[]): number[] => {
  const byMember = new Map<string, number>();
  for (const owner of owners) byMember.set(owner, (byMember.get(owner) ?? 0) + 1);
  return [...byMember.values()].sort((a, b) => a - b);
};

describe('balancedRendezvous', () => {
  it('spreads 12 partitions 4/4/4 over 3 brokers for every topic, where plain rendezvous often does not', () => {
    const brokers = ['broker-a1', 'broker-b2', 'broker-c3'];
    let unevenPlain = 0;
    for (let t = 0; t < 200; t++) {
      const topicItems = items(`topic-${t}`, 12);
      expect(counts(balancedRendezvous(topicItems, brokers))).toEqual([4, 4, 4]);
      if (counts(topicItems.map((item) => rendezvousOwner(item, brokers) ?? '')).join() !== '4,4,4') unevenPlain++;
    }
    expect(unevenPlain).toBeGreaterThan(50);
  });

  it('is deterministic, keeps every spread within one, and ignores duplicate and member order', () => {
    const brokers = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const topicItems = items('orders', 13);
    const owners = balancedRendezvous(topicItems, brokers);
    expect(balancedRendezvous(topicItems, [...brokers].reverse().concat('b1'))).toEqual(owners);
    const spread = counts(owners);
    expect((spread.at(-1) ?? 0) - (spread[0] ?? 0)).toBeLessThanOrEqual(1);
    expect(balancedRendezvous(topicItems, [])).toEqual([]);
  });

  it('moves about a quarter of the partitions to a fourth broker, not a reshuffle', () => {
    let moved = 0;
    let total = 0;
    for (let t = 0; t < 200; t++) {
      const topicItems = items(`topic-${t}`, 12);
      const before = balancedRendezvous(topicItems, ['b1', 'b2', 'b3']);
      const after = balancedRendezvous(topicItems, ['b1', 'b2', 'b3', 'b4']);
      moved += before.filter((owner, i) => after[i] !== owner).length;
      total += topicItems.length;
    }
    // The newcomer takes 3 of 12 (25%); the cap moves a few more around.
    expect(moved / total).toBeGreaterThan(0.2);
    expect(moved / total).toBeLessThan(0.4);
  });
});
