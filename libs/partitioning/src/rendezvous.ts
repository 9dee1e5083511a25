import type { Uint64Parts } from './xxhash64.js';
import { xxh64Into } from './xxhash64.js';
import { joinUint64 } from './uint64.js';

const encoder = new TextEncoder();

/**
 * Reused input buffer for `utf8(member) ++ 0x00 ++ item`, grown on demand,
 * so scoring a member allocates nothing.
 */
let input = new Uint8Array(256);
const score: Uint64Parts = { hi: 0, lo: 0 };

/** Writes XXH64(utf8(member) ++ 0x00 ++ item), seed 0, to `out`. */
function scoreInto(member: string, item: Uint8Array, out: Uint64Parts): void {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  const needed = member.length * 3 + 1 + item.length;
  if (input.length < needed) {
    input = new Uint8Array(Math.max(needed, input.length * 2));
  }
  const { written } = encoder.encodeInto(member, input);
  input[written] = 0;
  input.set(item, written + 1);
  xxh64Into(input, written + 1 + item.length, 0, 0, out);
}

/**
 * Orders member ids by their UTF-8 bytes (which is Unicode code point
 * order). Plain `<` compares UTF-16 code units and would disagree with other
 * languages for characters above U+FFFF. Only consulted on equal scores.
 * Exported for the tests; not part of the package API (see index.ts).
 */
export function compareMemberIds(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * The rendezvous score of `member` for `item`: XXH64 with seed 0 of
 * `utf8(member) ++ 0x00 ++ item`, as an unsigned 64-bit value. Exposed for
 * diagnostics and test vectors; placement uses {@link rendezvousOwner}.
 */
export function rendezvousScore(item: Uint8Array, member: string): bigint {
  scoreInto(member, item, score);
  return joinUint64(score.hi, score.lo);
}

/**
 * The owner of `item` among `members` by rendezvous (highest random weight)
 * hashing: the member with the highest {@link rendezvousScore}; on equal
 * scores the member id with the smaller UTF-8 bytes wins. `undefined` when
 * `members` is empty.
 *
 * Adding a member moves only the items the newcomer now wins (about
 * 1/(n+1) of them); removing one moves only its own items, spread over the
 * rest. Build items with `partitionItem` or `keyItem`.
 */
export function rendezvousOwner(item: Uint8Array, members: readonly string[]): string | undefined {
  let owner: string | undefined;
  let bestHi = 0;
  let bestLo = 0;
  for (const member of members) {
    scoreInto(member, item, score);
    const better =
      owner === undefined ||
      score.hi > bestHi ||
      (score.hi === bestHi &&
        (score.lo > bestLo || (score.lo === bestLo && compareMemberIds(member, owner) < 0)));
    if (better) {
      owner = member;
      bestHi = score.hi;
      bestLo = score.lo;
    }
  }
  return owner;
}

/**
 * All distinct `members` ordered by their rendezvous score for `item`,
 * highest first (ties as in {@link rendezvousOwner}); the first entry is the
 * owner. Take the first r entries as a replica set: when a member leaves,
 * the others keep their relative order, so only the leaver's slots change.
 * Duplicate ids appear once.
 */
export function rendezvousRank(item: Uint8Array, members: readonly string[]): string[] {
  const scored = [...new Set(members)].map((member) => {
    scoreInto(member, item, score);
    return { member, hi: score.hi, lo: score.lo };
  });
  scored.sort((a, b) => b.hi - a.hi || b.lo - a.lo || compareMemberIds(a.member, b.member));
  return scored.map((entry) => entry.member);
}
