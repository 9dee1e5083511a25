import { seededRandom } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { CreditGrantor } from './credit-grantor.js';
import type { CreditGrant } from './credit-grantor.js';
import { CreditWindow } from './credit-window.js';
import { creditGrantorDefaults } from './defaults.js';

const noBytes = { prefetchBytes: Number.POSITIVE_INFINITY };

describe('CreditGrantor', () => {
  it('opens with the default prefetch', () => {
    const grantor = new CreditGrantor();
    expect(grantor.open()).toEqual({
      records: creditGrantorDefaults.prefetchRecords,
      bytes: creditGrantorDefaults.prefetchBytes,
    });
  });

  it.each([
    { prefetchRecords: 0 },
    { prefetchRecords: 2.5 },
    { prefetchRecords: Number.POSITIVE_INFINITY },
    { prefetchBytes: 0 },
    { prefetchBytes: -1 },
    { topUpThreshold: -0.1 },
    { topUpThreshold: 1.5 },
    { topUpThreshold: Number.NaN },
  ])('rejects %o rather than falling back to a default', (options) => {
    expect(() => new CreditGrantor(options)).toThrow(RangeError);
  });

  it('accepts a zero threshold as zero', () => {
    expect(new CreditGrantor({ topUpThreshold: 0 }).topUpThreshold).toBe(0);
  });

  it('grants no bytes when byte credit is off', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 3, ...noBytes });
    expect(grantor.open()).toEqual({ records: 3, bytes: 0 });
  });

  it('batches top-ups: one grant once outstanding falls below half the prefetch', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, ...noBytes });
    grantor.open();
    for (let i = 0; i < 10; i++) grantor.onDelivered(100);

    const grants: (CreditGrant | undefined)[] = [];
    for (let i = 0; i < 6; i++) grants.push(grantor.onSettled(100));
    // Outstanding 9, 8, 7, 6, 5 are not below 5; at 4 the whole lot goes back.
    expect(grants).toEqual([undefined, undefined, undefined, undefined, undefined, { records: 6, bytes: 0 }]);
    expect(grantor.outstandingRecords).toBe(10);
    expect(grantor.heldRecords).toBe(4);
  });

  it('tops up on bytes as well as records', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 100, prefetchBytes: 1_000 });
    expect(grantor.open()).toEqual({ records: 100, bytes: 1_000 });
    for (let i = 0; i < 3; i++) grantor.onDelivered(300);
    expect(grantor.outstandingBytes).toBe(1_000);
    // 700 outstanding: still above 500.
    expect(grantor.onSettled(300)).toBeUndefined();
    // 400 outstanding: below 500, so top up to 1000 bytes and 100 records.
    expect(grantor.onSettled(300)).toEqual({ records: 2, bytes: 600 });
    expect(grantor.outstandingBytes).toBe(1_000);
  });

  it('returns all credit once the application holds nothing, even above the threshold', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: 1_000, topUpThreshold: 0 });
    grantor.open();
    grantor.onDelivered(100);
    grantor.onDelivered(100);
    expect(grantor.onSettled(100)).toBeUndefined();
    expect(grantor.onSettled(100)).toEqual({ records: 2, bytes: 200 });
  });

  it('tops up after every record with a threshold of 1', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, ...noBytes, topUpThreshold: 1 });
    grantor.open();
    grantor.onDelivered(1);
    grantor.onDelivered(1);
    expect(grantor.onSettled(1)).toEqual({ records: 1, bytes: 0 });
  });

  it('refuses to settle what was never delivered', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: 1_000 });
    grantor.open();
    expect(() => grantor.onSettled(0)).toThrow(RangeError);
    grantor.onDelivered(10);
    expect(() => grantor.onSettled(11)).toThrow(RangeError);
    expect(grantor.heldRecords).toBe(1);
  });

  it('pays back an oversized record so the broker window is full again', () => {
    const window = new CreditWindow();
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: 1_000 });
    const first = grantor.open();
    window.grant(first.records, first.bytes);

    expect(window.canSend(2_500)).toBe(true);
    window.consume(2_500);
    grantor.onDelivered(2_500);
    expect(window.canSend(1)).toBe(false);

    const grant = grantor.onSettled(2_500);
    expect(grant).toEqual({ records: 1, bytes: 2_500 });
    window.grant(grant?.records ?? 0, grant?.bytes ?? 0);
    expect(window.availableBytes).toBe(1_000);
    expect(window.availableRecords).toBe(10);
  });

  it('reopens for a new stream net of what the application still holds', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: 1_000 });
    grantor.open();
    for (let i = 0; i < 3; i++) grantor.onDelivered(100);
    expect(grantor.open()).toEqual({ records: 7, bytes: 700 });
    // Settling records from the old stream tops the new one up.
    grantor.onSettled(100);
    grantor.onSettled(100);
    expect(grantor.onSettled(100)).toEqual({ records: 3, bytes: 300 });
  });

  it('withholds a first grant that would carry records but no bytes', () => {
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: 100 });
    grantor.open();
    grantor.onDelivered(100);
    // A record-only first grant would leave the new window unlimited in bytes.
    expect(grantor.open()).toEqual({ records: 0, bytes: 0 });
    expect(grantor.onSettled(100)).toEqual({ records: 10, bytes: 100 });
  });

  it('with a broker window, delivers everything without stalling or exceeding the prefetch', () => {
    const random = seededRandom(42);
    const prefetchRecords = 8;
    const prefetchBytes = 4_096;
    const sizes = Array.from({ length: 2_000 }, () =>
      // Mostly small records, some above the whole byte prefetch.
      random.next() < 0.05 ? 4_096 + Math.floor(random.next() * 8_192) : Math.floor(random.next() * 1_500),
    );
    const window = new CreditWindow();
    const grantor = new CreditGrantor({ prefetchRecords, prefetchBytes });
    const apply = (grant: CreditGrant | undefined): void => {
      if (grant) window.grant(grant.records, grant.bytes);
    };
    apply(grantor.open());

    const held: number[] = [];
    let next = 0;
    let grants = 0;
    for (let step = 0; next < sizes.length || held.length > 0; step++) {
      expect(step).toBeLessThan(100_000);
      const size = sizes[next];
      if (size !== undefined && window.canSend(size) && random.next() < 0.6) {
        window.consume(size);
        grantor.onDelivered(size);
        held.push(size);
        next++;
      } else if (held.length > 0) {
        // Settle in any order: the application finishes work out of order.
        const [settled] = held.splice(Math.floor(random.next() * held.length), 1);
        const grant = grantor.onSettled(settled ?? 0);
        if (grant) grants++;
        apply(grant);
      } else {
        // The application is idle and the broker cannot send: a stall.
        expect(window.canSend(size ?? 0)).toBe(true);
      }
      expect(held.length).toBeLessThanOrEqual(prefetchRecords);
      const heldBytes = held.reduce((a, b) => a + b, 0);
      expect(heldBytes <= prefetchBytes || held.length === 1).toBe(true);
    }
    expect(next).toBe(sizes.length);
    // Batched: far fewer grants than records.
    expect(grants).toBeLessThan(sizes.length / 2);
  });
});
