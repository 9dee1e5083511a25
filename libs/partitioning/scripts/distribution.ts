// Prints the figures behind the partitioning tests, reproducibly (seeded):
// spread of 1,000,000 keys over 64 partitions, keys moved when a topic grows
// from n to n+1 partitions, and items moved when a member joins.
//
//   npm run distribution -w @braid/partitioning
import { keyItem, partitionForKey, rendezvousOwner } from '../src/index.js';
import { Mulberry32 } from '../test/prng.js';

const random = new Mulberry32(20261128);
function randomKey(): Uint8Array {
  const key = new Uint8Array(16);
  for (let i = 0; i < key.length; i += 4) new DataView(key.buffer).setUint32(i, random.nextUint32());
  return key;
}

const counts = new Array<number>(64).fill(0);
for (let i = 0; i < 1_000_000; i++) {
  const p = partitionForKey(randomKey(), 64);
  counts[p] = (counts[p] ?? 0) + 1;
}
const mean = 1_000_000 / 64;
const max = Math.max(...counts);
const min = Math.min(...counts);
console.log(`uniformity: 1,000,000 keys over 64 partitions, mean ${mean}`);
console.log(`  busiest ${max} (${(((max - mean) / mean) * 100).toFixed(2)}%), quietest ${min} (${(((min - mean) / mean) * 100).toFixed(2)}%)`);

const keys = Array.from({ length: 100_000 }, randomKey);
console.log('growth: 100,000 keys, n -> n+1 partitions');
for (const n of [1, 7, 8, 63, 100]) {
  let moved = 0;
  let elsewhere = 0;
  for (const key of keys) {
    const before = partitionForKey(key, n);
    const after = partitionForKey(key, n + 1);
    if (before !== after) {
      moved++;
      if (after !== n) elsewhere++;
    }
  }
  const expected = keys.length / (n + 1);
  console.log(`  ${n} -> ${n + 1}: moved ${moved} (expected ${Math.round(expected)}, ${(((moved - expected) / expected) * 100).toFixed(1)}%), moved to an old partition: ${elsewhere}`);
}

const items = Array.from({ length: 10_000 }, () => keyItem(randomKey()));
console.log('rendezvous: 10,000 items, one member joins');
for (const n of [3, 5, 10]) {
  const members = Array.from({ length: n }, (_, i) => `member-${i}`);
  const grown = [...members, 'newcomer'];
  let moved = 0;
  let notToNewcomer = 0;
  for (const item of items) {
    const before = rendezvousOwner(item, members);
    const after = rendezvousOwner(item, grown);
    if (before !== after) {
      moved++;
      if (after !== 'newcomer') notToNewcomer++;
    }
  }
  console.log(`  ${n} -> ${n + 1}: moved ${moved} (expected ${Math.round(items.length / (n + 1))}), moved elsewhere than the newcomer: ${notToNewcomer}`);
}
