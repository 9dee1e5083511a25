/**
 * A subscription's delivery state on one partition, and its stored form (the
 * value of a `[0x04]` subscription key).
 *
 * Value, version 1 (unsigned LEB128 varints, see `varint.ts`):
 *
 * `[version u8 = 1][cursor][acked][m]` then m x `[gap][attempts]`
 *
 * - `acked` is the `OffsetRangeSet` encoding (self-delimiting).
 * - The m attempt entries are sorted by offset; `gap` is `offset - cursor`
 *   for the first, `offset - previous offset - 1` after that.
 *
 * The version byte lets the next issue (durable attempt ledgers and retry
 * timers) change the value while reading what this version wrote.
 */
import { InvalidArgumentError } from '@braid/core';
import { OffsetRangeSet } from './offset-range-set.js';
import { assertU53 } from './u64.js';
import { ByteReader, ByteWriter } from './varint.js';

const VERSION = 1;

/**
 * Where a subscription stands on one partition. Offsets below `cursor` are
 * settled; above it, `acked` holds those acknowledged out of order and
 * `attempts` how often the unsettled ones were delivered.
 */
export interface SubscriptionPartitionState {
  /**
   * Every offset below it is acknowledged (or was deleted by retention):
   * the first offset that may still need delivering.
   */
  cursor: number;
  /** Offsets at or above `cursor` that are acknowledged. */
  acked: OffsetRangeSet;
  /**
   * Offset -> delivery attempts made so far, for offsets at or above the
   * cursor that were delivered at least once and are not acknowledged. A
   * restarted broker redelivers offset `o` as attempt
   * `(attempts.get(o) ?? 0) + 1`. Stored entries are bounded (see
   * `maxStoredAttempts`); entries below the cursor, of acknowledged offsets
   * or with a count of 0 are not stored.
   */
  attempts: Map<number, number>;
}

/** A fresh state: nothing acknowledged at or above `cursor`, nothing delivered. */
export function newSubscriptionState(cursor: number): SubscriptionPartitionState {
  assertU53('cursor', cursor);
  return { cursor, acked: new OffsetRangeSet(), attempts: new Map() };
}

/**
 * Encodes `state`. Attempt entries that need not be stored (below the
 * cursor, acknowledged, count 0) are skipped; if more than
 * `maxStoredAttempts` remain, the ones with the most attempts are kept (ties:
 * the lowest offsets), because forgetting a count of 1 costs one extra
 * delivery after a restart while forgetting a count near `max_attempts`
 * postpones dead-lettering by that many. Throws `InvalidArgumentError` for a
 * cursor or attempt entry that is not an integer in [0, 2^53).
 */
export function encodeSubscriptionState(state: SubscriptionPartitionState, maxStoredAttempts: number): Buffer {
  const { cursor, acked } = state;
  assertU53('cursor', cursor);
  let kept: [number, number][] = [];
  for (const [offset, count] of state.attempts) {
    assertU53('attempts offset', offset);
    assertU53('attempts count', count);
    if (count > 0 && offset >= cursor && !acked.has(offset)) kept.push([offset, count]);
  }
  if (kept.length > maxStoredAttempts) {
    kept.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    kept = kept.slice(0, maxStoredAttempts);
  }
  kept.sort((a, b) => a[0] - b[0]);

  const writer = new ByteWriter(16 + acked.rangeCount * 4 + kept.length * 3);
  writer.u8(VERSION).varint(cursor);
  acked.writeTo(writer);
  writer.varint(kept.length);
  let previous = cursor - 1;
  for (const [offset, count] of kept) {
    writer.varint(offset - previous - 1).varint(count);
    previous = offset;
  }
  return writer.finish();
}

/** Decodes a stored state; throws `RangeError` on an unknown version or malformed bytes. */
export function decodeSubscriptionState(value: Uint8Array): SubscriptionPartitionState {
  const reader = new ByteReader(value);
  const version = reader.u8();
  if (version !== VERSION) throw new RangeError(`unknown subscription state encoding (version ${version}, ${value.length} bytes)`);
  const cursor = reader.varint();
  const acked = OffsetRangeSet.readFrom(reader);
  const m = reader.varint();
  const attempts = new Map<number, number>();
  let previous = cursor - 1;
  for (let i = 0; i < m; i++) {
    const offset = previous + 1 + reader.varint();
    if (!Number.isSafeInteger(offset)) throw new RangeError(`attempt entry ${i} has an offset beyond 2^53`);
    attempts.set(offset, reader.varint());
    previous = offset;
  }
  reader.expectDone('a subscription state');
  return { cursor, acked, attempts };
}

/**
 * Brings a state read from disk in line with its partition, in place: the
 * cursor never lies below `logStartOffset` (retention deleted those records:
 * nothing there can be delivered), and it moves on over offsets acknowledged
 * right after it; acknowledgements and attempt counts below the new cursor
 * are dropped. Returns `state`.
 */
export function settleSubscriptionState(state: SubscriptionPartitionState, logStartOffset: number): SubscriptionPartitionState {
  state.cursor = state.acked.advance(Math.max(state.cursor, logStartOffset));
  for (const offset of state.attempts.keys()) {
    if (offset < state.cursor) state.attempts.delete(offset);
  }
  return state;
}

/** Throws `InvalidArgumentError` unless `state` has the shape of a {@link SubscriptionPartitionState}. */
export function assertSubscriptionState(state: SubscriptionPartitionState): void {
  const value: unknown = state;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('subscription state must be an object');
  assertU53('cursor', state.cursor);
  const { acked, attempts } = state as { acked: unknown; attempts: unknown };
  if (!(acked instanceof OffsetRangeSet)) throw new InvalidArgumentError('subscription state `acked` must be an OffsetRangeSet');
  if (!(attempts instanceof Map)) throw new InvalidArgumentError('subscription state `attempts` must be a Map');
}
