import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import type { OffsetRange } from '@braid/proto';
import { AckBatcher } from './ack-batcher.js';

function batcher(maxBatch: number, flushMs: number) {
  const clock = new FakeClock();
  const sent: OffsetRange[][] = [];
  const acks = new AckBatcher({ maxBatch, flushMs, clock, send: (ranges) => sent.push(ranges) });
  return { clock, sent, acks };
}

describe('AckBatcher', () => {
  it('sends a full batch at once, coalesced into ranges per partition', () => {
    const { sent, acks } = batcher(5, 1000);
    for (const offset of [0, 1, 2]) acks.add(0, offset);
    acks.add(1, 10);
    expect(sent).toEqual([]);
    acks.add(0, 4);
    expect(sent).toEqual([
      [
        { partition: 0, first: 0, last: 2 },
        { partition: 0, first: 4, last: 4 },
        { partition: 1, first: 10, last: 10 },
      ],
    ]);
    expect(acks.pending).toBe(0);
  });

  it('sends a partial batch flushMs after its first ack', async () => {
    const { clock, sent, acks } = batcher(100, 20);
    acks.add(0, 0);
    await clock.advance(10);
    acks.add(0, 1);
    expect(sent).toEqual([]);
    await clock.advance(10);
    expect(sent).toEqual([[{ partition: 0, first: 0, last: 1 }]]);
    // The next ack starts a new timer.
    acks.add(0, 2);
    await clock.advance(19);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent[1]).toEqual([{ partition: 0, first: 2, last: 2 }]);
  });

  it('flush() sends what is pending now and cancels the timer', async () => {
    const { clock, sent, acks } = batcher(100, 20);
    acks.add(3, 7);
    acks.flush();
    expect(sent).toEqual([[{ partition: 3, first: 7, last: 7 }]]);
    acks.flush();
    await clock.advance(50);
    expect(sent).toHaveLength(1);
  });

  it('a cancelled timer does not cut the linger of the next batch short', async () => {
    const { clock, sent, acks } = batcher(100, 20);
    acks.add(3, 7);
    await clock.advance(10);
    acks.flush();
    acks.add(3, 8);
    await clock.advance(15);
    expect(sent).toHaveLength(1);
    await clock.advance(5);
    expect(sent[1]).toEqual([{ partition: 3, first: 8, last: 8 }]);
  });

  it('discard() drops pending acks without sending them', async () => {
    const { clock, sent, acks } = batcher(100, 20);
    acks.add(0, 1);
    acks.discard();
    await clock.advance(50);
    expect(sent).toEqual([]);
    expect(acks.pending).toBe(0);
  });
});
