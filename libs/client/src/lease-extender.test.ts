import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import type { OffsetRange } from '@braid/proto';
import { LeaseExtender } from './lease-extender.js';

interface Sent {
  at: number;
  ranges: OffsetRange[];
  extendMs: number;
}

function extender(maxExtensionMs: number, leaseMs = 30_000) {
  const clock = new FakeClock(0);
  const sent: Sent[] = [];
  const leases = new LeaseExtender<{ partition: number; offset: number }>({
    clock,
    leaseMs: () => leaseMs,
    maxExtensionMs,
    extendAt: 2 / 3,
    send: (ranges, extendMs) => sent.push({ at: clock.now(), ranges, extendMs }),
  });
  return { clock, sent, leases };
}

describe('LeaseExtender', () => {
  it('extends a held record at 2/3 of its lease, again and again, until the budget is spent', async () => {
    const { clock, sent, leases } = extender(70_000);
    const record = { partition: 0, offset: 5 };
    leases.add(record, 30_000);
    await clock.advance(19_999);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([{ at: 20_000, ranges: [{ partition: 0, first: 5, last: 5 }], extendMs: 30_000 }]);
    expect(leases.deadline(record)).toBe(50_000);
    await clock.advance(20_000); // 40 000: next at 2/3 of the new lease
    expect(sent.map((s) => [s.at, s.extendMs])).toEqual([
      [20_000, 30_000],
      [40_000, 30_000],
    ]);
    await clock.advance(20_000); // 60 000: only 10 s of budget left, the last extension
    expect(sent.map((s) => [s.at, s.extendMs])).toEqual([
      [20_000, 30_000],
      [40_000, 30_000],
      [60_000, 10_000],
    ]);
    expect(leases.deadline(record)).toBe(70_000);
    await clock.advance(100_000);
    expect(sent).toHaveLength(3);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('sends records due together as one request with coalesced ranges', async () => {
    const { clock, sent, leases } = extender(60_000, 3_000);
    for (const offset of [1, 2, 3, 7]) leases.add({ partition: 2, offset }, 3_000);
    leases.add({ partition: 0, offset: 9 }, 3_000);
    await clock.advance(2_000);
    expect(sent).toEqual([
      {
        at: 2_000,
        extendMs: 3_000,
        ranges: [
          { partition: 0, first: 9, last: 9 },
          { partition: 2, first: 1, last: 3 },
          { partition: 2, first: 7, last: 7 },
        ],
      },
    ]);
  });

  it('stops extending a record once it is removed', async () => {
    const { clock, sent, leases } = extender(60_000);
    const record = { partition: 0, offset: 1 };
    leases.add(record, 30_000);
    await clock.advance(10_000);
    leases.remove(record);
    await clock.advance(60_000);
    expect(sent).toEqual([]);
    expect(leases.size).toBe(0);
  });

  it('sends an explicit extension at once and carries on from its deadline', async () => {
    const { clock, sent, leases } = extender(600_000);
    const record = { partition: 1, offset: 4 };
    leases.add(record, 30_000);
    await clock.advance(1_000);
    leases.extend(record, 90_000);
    expect(sent).toEqual([{ at: 1_000, ranges: [{ partition: 1, first: 4, last: 4 }], extendMs: 90_000 }]);
    expect(leases.deadline(record)).toBe(91_000);
    await clock.advance(59_999); // 2/3 of 90 s after the explicit extension is 61 000
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent[1]).toMatchObject({ at: 61_000, extendMs: 30_000 });
  });

  it('never extends automatically with maxExtensionMs 0, but tracks the deadline', async () => {
    const { clock, sent, leases } = extender(0);
    const record = { partition: 0, offset: 0 };
    leases.add(record, 30_000);
    await clock.advance(100_000);
    expect(sent).toEqual([]);
    expect(leases.deadline(record)).toBe(30_000);
  });

  it('takes a deadline beyond one lease (clock skew) as one lease from now', async () => {
    const { clock, sent, leases } = extender(600_000, 3_000);
    leases.add({ partition: 0, offset: 0 }, 1_000_000);
    await clock.advance(2_000);
    expect(sent).toHaveLength(1);
  });
});
