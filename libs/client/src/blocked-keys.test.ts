// Which records the consumer hands back behind a failed record of their key,
// and when a key flows again.
import { describe, expect, it } from 'vitest';
import { RetryOrder, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import { BlockedKeys, nackBlocksKey } from './blocked-keys.js';
import type { KeyedRecord } from './blocked-keys.js';

/** A record of key `key` (`null`: keyless) in `partition`. */
const record = (offset: number, key: string | null = 'k', partition = 0): KeyedRecord => ({
  partition,
  offset,
  key: key === null ? undefined : Buffer.from(key),
});

describe('BlockedKeys', () => {
  it('holds back later records of the failed key in its partition, and nothing else', () => {
    const blocked = new BlockedKeys();
    expect(blocked.block(record(5))).toBe(true);
    expect(blocked.admit(record(6))).toBe(false);
    expect(blocked.admit(record(9))).toBe(false);
    expect(blocked.admit(record(4))).toBe(true); // before the failed record
    expect(blocked.admit(record(7, 'other'))).toBe(true);
    expect(blocked.admit(record(7, 'k', 1))).toBe(true); // same key, another partition
    expect(blocked.admit(record(7, null))).toBe(true);
    expect(blocked.size).toBe(1);
  });

  it('does not block keyless records', () => {
    const blocked = new BlockedKeys();
    expect(blocked.block(record(5, null))).toBe(false);
    expect(blocked.size).toBe(0);
  });

  it('ends the block when the failed record comes back (its retry)', () => {
    const blocked = new BlockedKeys();
    blocked.block(record(5));
    expect(blocked.admit(record(6))).toBe(false);
    expect(blocked.admit(record(5))).toBe(true);
    expect(blocked.size).toBe(0);
    expect(blocked.admit(record(6))).toBe(true);
  });

  it('releases a record once: one that comes back after its release ends the block (no release loop)', () => {
    const blocked = new BlockedKeys();
    blocked.block(record(5));
    expect(blocked.admit(record(8))).toBe(false);
    expect(blocked.admit(record(9))).toBe(false);
    // The broker sent 8 again although 5 never came back (dead-lettered elsewhere, or it does not hold keys back).
    expect(blocked.admit(record(8))).toBe(true);
    expect(blocked.size).toBe(0);
    expect(blocked.admit(record(9))).toBe(true);
  });

  it('keeps the earliest failed record when another record of the key fails too', () => {
    const blocked = new BlockedKeys();
    blocked.block(record(7));
    blocked.block(record(5));
    expect(blocked.admit(record(6))).toBe(false);
    // 7 is behind 5 now: its retry waits for 5's.
    expect(blocked.admit(record(7))).toBe(false);
    expect(blocked.admit(record(5))).toBe(true);
  });
});

describe('nackBlocksKey', () => {
  const config = (mode: SubscriptionMode, retryOrder = RetryOrder.RETRY_ORDER_UNSPECIFIED, maxAttempts = 0): SubscriptionConfig =>
    SubscriptionConfig.fromPartial({ mode, retryPolicy: { retryOrder, maxAttempts } });

  it('blocks under BLOCK_KEY until the last attempt (the broker dead-letters instead of retrying)', () => {
    const partitioned = config(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, RetryOrder.RETRY_ORDER_UNSPECIFIED, 3);
    expect(nackBlocksKey(partitioned, 1)).toBe(true);
    expect(nackBlocksKey(partitioned, 2)).toBe(true);
    expect(nackBlocksKey(partitioned, 3)).toBe(false);
    // max_attempts 0: the contract's default, 5.
    expect(nackBlocksKey(config(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED), 4)).toBe(true);
    expect(nackBlocksKey(config(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED), 5)).toBe(false);
    expect(nackBlocksKey(config(SubscriptionMode.SUBSCRIPTION_MODE_SHARED), 1)).toBe(false);
  });
});
