// Which records the consumer parks or hands back behind a failed record of
// their key, and when a key flows again.
import { describe, expect, it } from 'vitest';
import { RetryOrder, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import { BlockedKeys, nackBlocksKey, parkGraceMs, parkingTime } from './blocked-keys.js';
import type { KeyedRecord } from './blocked-keys.js';

/** A record of key `key` (`null`: keyless) in `partition`. */
const record = (offset: number, key: string | null = 'k', partition = 0): KeyedRecord => ({
  partition,
  offset,
  key: key === null ? undefined : Buffer.from(key),
});

describe('BlockedKeys', () => {
  it('holds back later records of the failed key in its partition, and nothing else', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    expect(blocked.block(record(5))).toBe(true);
    expect(blocked.admit(record(6))).toBe('release');
    expect(blocked.admit(record(9))).toBe('release');
    expect(blocked.admit(record(4))).toBe('go'); // before the failed record
    expect(blocked.admit(record(7, 'other'))).toBe('go');
    expect(blocked.admit(record(7, 'k', 1))).toBe('go'); // same key, another partition
    expect(blocked.admit(record(7, null))).toBe('go');
    expect(blocked.size).toBe(1);
  });

  it('decides like a plain map of blocked keys across many keys blocking and unblocking', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    const model = new Map<string, number>();
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const partition = next(4);
      const key = `key-${next(300)}`;
      const id = `${partition}:${key}`;
      const offset = 1000 + step;
      const failed = model.get(id);
      if (failed === undefined && next(10) === 0) {
        blocked.block(record(offset, key, partition));
        model.set(id, offset);
      } else if (failed !== undefined && next(5) === 0) {
        // The retry comes back: the block ends.
        expect(blocked.admit(record(failed, key, partition))).toBe('go');
        model.delete(id);
      } else {
        expect(blocked.admit(record(offset, key, partition))).toBe(failed === undefined ? 'go' : 'release');
      }
      expect(blocked.size).toBe(model.size);
    }
  });

  it('does not block keyless records', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    expect(blocked.block(record(5, null))).toBe(false);
    expect(blocked.size).toBe(0);
  });

  it('ends the block when the failed record comes back (its retry)', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    blocked.block(record(5));
    expect(blocked.admit(record(6))).toBe('release');
    expect(blocked.admit(record(5))).toBe('go');
    expect(blocked.size).toBe(0);
    expect(blocked.admit(record(6))).toBe('go');
  });

  it('releases a record once: one that comes back after its release ends the block (no release loop)', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    blocked.block(record(5));
    expect(blocked.admit(record(8))).toBe('release');
    expect(blocked.admit(record(9))).toBe('release');
    // The broker sent 8 again although 5 never came back (dead-lettered elsewhere, or it does not hold keys back).
    expect(blocked.admit(record(8))).toBe('go');
    expect(blocked.size).toBe(0);
    expect(blocked.admit(record(9))).toBe('go');
  });

  it('keeps the earliest failed record when another record of the key fails too', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 0);
    blocked.block(record(7));
    blocked.block(record(5));
    expect(blocked.admit(record(6))).toBe('release');
    // 7 is behind 5 now: its retry waits for 5's.
    expect(blocked.admit(record(7))).toBe('release');
    expect(blocked.admit(record(5))).toBe('go');
  });
});

describe('BlockedKeys parking', () => {
  it('parks later records of the key and hands them over, in offset order, when the retry comes back', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 10);
    blocked.block(record(5), 1_000);
    expect(blocked.admit(record(9))).toBe('park');
    expect(blocked.admit(record(6))).toBe('park');
    expect(blocked.admit(record(7, 'other'))).toBe('go');
    expect(blocked.parked).toBe(2);
    expect(blocked.takeUnparked()).toEqual([]);
    expect(blocked.admit(record(5))).toBe('go');
    expect(blocked.takeUnparked().map((r) => r.offset)).toEqual([6, 9]);
    expect(blocked.takeUnparked()).toEqual([]);
    expect(blocked.parked).toBe(0);
    expect(blocked.size).toBe(0);
  });

  it('parks at most maxParked records at once: a block that would go past it hands back all it parked', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 2);
    blocked.block(record(5), 1_000);
    blocked.block(record(1, 'other'), 1_000);
    expect(blocked.admit(record(6))).toBe('park');
    expect(blocked.admit(record(2, 'other'))).toBe('park');
    expect(blocked.admit(record(8))).toBe('release');
    // 6 goes back too: parked 6 then released 7 would come back as 6, 8, 7 or worse.
    expect(blocked.takeReleased().map((r) => r.offset)).toEqual([6]);
    expect(blocked.admit(record(9))).toBe('release');
    expect(blocked.parked).toBe(1);
    expect(blocked.admit(record(5))).toBe('go');
    expect(blocked.takeUnparked()).toEqual([]);
    // The other block still parks.
    expect(blocked.admit(record(1, 'other'))).toBe('go');
    expect(blocked.takeUnparked().map((r) => r.offset)).toEqual([2]);
  });

  it('releases instead of parking when the retry is far off, and on a second delivery of a parked offset', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 10);
    blocked.block(record(5));
    expect(blocked.admit(record(6))).toBe('release');
    blocked.block(record(20, 'other'), 1_000);
    expect(blocked.admit(record(21, 'other'))).toBe('park');
    expect(blocked.admit(record(21, 'other'))).toBe('release');
    expect(blocked.takeReleased().map((r) => r.offset)).toEqual([21]);
    expect(blocked.parked).toBe(0);
  });

  it('hands back what a block parked once its retry is late; the block then releases', () => {
    let now = 0;
    const blocked = new BlockedKeys<KeyedRecord>(() => now, 10);
    blocked.block(record(5), 1_000);
    expect(blocked.admit(record(6))).toBe('park');
    now = 999;
    blocked.expire();
    expect(blocked.takeReleased()).toEqual([]);
    now = 1_000;
    blocked.expire();
    expect(blocked.takeReleased().map((r) => r.offset)).toEqual([6]);
    expect(blocked.parked).toBe(0);
    expect(blocked.admit(record(7))).toBe('release');
    // 6 comes back from the broker (it was handed back): it ends the block.
    expect(blocked.admit(record(6))).toBe('go');
    expect(blocked.takeUnparked()).toEqual([]);
  });

  it('a second failure of the key with a retry far off hands back what the block parked', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 10);
    blocked.block(record(5), 1_000);
    expect(blocked.admit(record(7))).toBe('park');
    blocked.block(record(6));
    expect(blocked.takeReleased().map((r) => r.offset)).toEqual([7]);
    expect(blocked.parked).toBe(0);
    expect(blocked.admit(record(8))).toBe('release');
  });

  it('gives up parked records of a broken stream without ending their block, and all of them on clear', () => {
    const blocked = new BlockedKeys<KeyedRecord>(() => 0, 10);
    blocked.block(record(5), 1_000);
    blocked.admit(record(6));
    blocked.admit(record(7));
    expect(blocked.removeParked((r) => r.offset === 6).map((r) => r.offset)).toEqual([6]);
    expect(blocked.parked).toBe(1);
    expect(blocked.size).toBe(1);
    expect(blocked.clear().map((r) => r.offset)).toEqual([7]);
    expect(blocked.parked).toBe(0);
    expect(blocked.size).toBe(0);
  });
});

describe('parkingTime', () => {
  const config = (mode: SubscriptionMode, initialBackoffMs: number, maxBackoffMs: number): SubscriptionConfig =>
    SubscriptionConfig.fromPartial({ mode, retryPolicy: { initialBackoffMs, maxBackoffMs, multiplier: 2 } });

  it('parks while the retry is due within a second (twice the backoff, for jitter), for that long plus the grace', () => {
    const fast = config(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 20, 1_000);
    expect(parkingTime(fast, 1, undefined)).toBe(40 + parkGraceMs);
    expect(parkingTime(fast, 3, undefined)).toBe(160 + parkGraceMs);
    expect(parkingTime(fast, 6, undefined)).toBeUndefined(); // 640 ms x 2
    expect(parkingTime(fast, 1, 300)).toBe(300 + parkGraceMs); // the nack's own delay
    expect(parkingTime(fast, 1, 5_000)).toBeUndefined();
    expect(parkingTime(config(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, 1_000, 60_000), 1, undefined)).toBeUndefined();
  });

  it('never parks in SHARED: any member may get the retry', () => {
    expect(parkingTime(config(SubscriptionMode.SUBSCRIPTION_MODE_SHARED, 20, 1_000), 1, undefined)).toBeUndefined();
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
