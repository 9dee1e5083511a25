import { InvalidArgumentError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { OffsetRangeSet } from './offset-range-set.js';
import {
  decodeSubscriptionState,
  encodeSubscriptionState,
  newSubscriptionState,
  settleSubscriptionState,
} from './subscription-state.js';
import type { SubscriptionPartitionState } from './subscription-state.js';

function state(cursor: number, acked: [number, number][], attempts: [number, number][]): SubscriptionPartitionState {
  const set = new OffsetRangeSet();
  for (const [first, last] of acked) set.add(first, last);
  return { cursor, acked: set, attempts: new Map(attempts) };
}

const plain = (s: SubscriptionPartitionState): unknown => ({
  cursor: s.cursor,
  acked: s.acked.ranges().map((r) => [r.first, r.last]),
  attempts: [...s.attempts].sort((a, b) => a[0] - b[0]),
});

describe('subscription state', () => {
  it('encodes version, cursor, acked ranges and attempt gaps as documented', () => {
    const s = state(100, [[103, 104]], [[100, 2], [102, 1], [200, 5]]);
    expect(encodeSubscriptionState(s, 10).toString('hex')).toBe(
      '01' + // version
        '64' + // cursor 100
        '01' + '6701' + // one range: gap 103, span 1
        '03' + '0002' + '0101' + '6105', // attempts: 100 (gap 0) x2, 102 (gap 1) x1, 200 (gap 97) x5
    );
  });

  it('round-trips a state', () => {
    const s = state(2 ** 40, [[2 ** 40 + 2, 2 ** 40 + 9], [2 ** 40 + 1000, 2 ** 40 + 1000]], [[2 ** 40, 3], [2 ** 40 + 1, 1], [2 ** 40 + 11, 7]]);
    expect(plain(decodeSubscriptionState(encodeSubscriptionState(s, 100)))).toEqual(plain(s));
    expect(plain(decodeSubscriptionState(encodeSubscriptionState(newSubscriptionState(0), 100)))).toEqual({ cursor: 0, acked: [], attempts: [] });
  });

  it('stores no attempts for offsets below the cursor, acknowledged ones or counts of zero', () => {
    const s = state(10, [[12, 13]], [[5, 4], [10, 1], [11, 0], [12, 2], [14, 3]]);
    expect(plain(decodeSubscriptionState(encodeSubscriptionState(s, 100)))).toMatchObject({ attempts: [[10, 1], [14, 3]] });
    // The caller's state is not touched.
    expect(s.attempts.size).toBe(5);
  });

  it('keeps the highest attempt counts when there are more than maxStoredAttempts', () => {
    const s = state(0, [], [[1, 1], [2, 4], [3, 1], [4, 2], [5, 4], [6, 9]]);
    expect(plain(decodeSubscriptionState(encodeSubscriptionState(s, 3)))).toMatchObject({ attempts: [[2, 4], [5, 4], [6, 9]] });
    // Ties go to the lowest offsets, the next to be redelivered.
    expect(plain(decodeSubscriptionState(encodeSubscriptionState(s, 4)))).toMatchObject({ attempts: [[2, 4], [4, 2], [5, 4], [6, 9]] });
    expect(decodeSubscriptionState(encodeSubscriptionState(s, 0)).attempts.size).toBe(0);
  });

  it('rejects cursors and attempt entries that are not integers in [0, 2^53)', () => {
    expect(() => encodeSubscriptionState(state(-1, [], []), 10)).toThrow(InvalidArgumentError);
    expect(() => encodeSubscriptionState(state(0, [], [[1, 1.5]]), 10)).toThrow(InvalidArgumentError);
    expect(() => encodeSubscriptionState(state(0, [], [[-3, 1]]), 10)).toThrow(InvalidArgumentError);
    expect(() => newSubscriptionState(2 ** 53)).toThrow(InvalidArgumentError);
  });

  it('refuses unknown versions and malformed values', () => {
    const good = encodeSubscriptionState(state(5, [[7, 8]], [[5, 1]]), 10);
    expect(() => decodeSubscriptionState(Buffer.concat([Buffer.from([2]), good.subarray(1)]))).toThrow(/version 2/);
    expect(() => decodeSubscriptionState(good.subarray(0, good.length - 1))).toThrow(RangeError);
    expect(() => decodeSubscriptionState(Buffer.concat([good, Buffer.from([0])]))).toThrow(RangeError);
    expect(() => decodeSubscriptionState(Buffer.alloc(0))).toThrow(RangeError);
  });

  it('settles a state against the log start: the cursor never lies below it and moves on over acks', () => {
    // Retention deleted up to 20; 20-24 were acknowledged.
    const s = settleSubscriptionState(state(10, [[12, 13], [20, 24], [30, 30]], [[11, 2], [25, 1], [31, 3]]), 20);
    expect(plain(s)).toEqual({ cursor: 25, acked: [[30, 30]], attempts: [[25, 1], [31, 3]] });
    // A cursor above the log start stays, apart from acks right after it.
    expect(plain(settleSubscriptionState(state(40, [[40, 41]], []), 20))).toMatchObject({ cursor: 42, acked: [] });
    expect(plain(settleSubscriptionState(state(40, [[42, 42]], []), 0))).toMatchObject({ cursor: 40, acked: [[42, 42]] });
  });
});
