import { describe, expect, it } from 'vitest';
import { QueueIndex } from './queue-index.js';
import type { RecordSummary } from './record-summary.js';

function summary(partition: number, offset: number, deadLetteredAtMs: number): RecordSummary {
  return {
    partition,
    offset,
    originPartition: 0,
    originOffset: offset,
    key: undefined,
    reason: '',
    errorClass: '',
    attempts: 1,
    deadLetteredAtMs,
    redriveCount: 0,
    valueSize: 1,
    removed: false,
  };
}

const ids = (queue: QueueIndex): string[] => [...queue.live()].map((s) => `${s.partition}/${s.offset}`);

describe('QueueIndex', () => {
  it('keeps records oldest first across partitions, whatever order they are added in, once each', () => {
    const queue = new QueueIndex('orders', 'audit', 'orders.audit.dlq');
    queue.add(summary(0, 0, 100));
    queue.add(summary(1, 0, 50));
    queue.add(summary(0, 1, 100));
    queue.add(summary(1, 1, 300));
    queue.add(summary(1, 0, 50));
    expect(ids(queue)).toEqual(['1/0', '0/0', '0/1', '1/1']);
    expect(queue.depth).toBe(4);
    expect(queue.oldest()?.offset).toBe(0);
  });

  it('removes records lazily: depth, lookups and order stay right through compaction, and the version moves', () => {
    const queue = new QueueIndex('orders', 'audit', 'orders.audit.dlq');
    for (let offset = 0; offset < 100; offset++) queue.add(summary(0, offset, offset));
    const before = queue.version;
    expect(queue.remove([{ partition: 0, offset: 0 }, { partition: 0, offset: 5 }, { partition: 9, offset: 9 }])).toBe(2);
    expect(queue.version).toBeGreaterThan(before);
    expect(queue.depth).toBe(98);
    expect(queue.get(0, 5)).toBeUndefined();
    expect(queue.oldest()?.offset).toBe(1);
    // Past a quarter removed, the array is compacted.
    queue.remove(Array.from({ length: 40 }, (_, i) => ({ partition: 0, offset: 10 + i })));
    expect(queue.depth).toBe(58);
    expect(ids(queue)).toHaveLength(58);
    expect(queue.get(0, 60)?.offset).toBe(60);
    expect(queue.remove([{ partition: 0, offset: 5 }])).toBe(0);
  });

  it('counts arrivals in the last minute', () => {
    const queue = new QueueIndex('orders', 'audit', 'orders.audit.dlq');
    const now = 1_000_000;
    queue.add(summary(0, 0, now - 120_000));
    queue.add(summary(0, 1, now - 59_000));
    queue.add(summary(0, 2, now - 1_000));
    queue.addArrival(now - 500);
    expect(queue.arrivalsSince(now)).toBe(3);
    expect(queue.arrivalsSince(now + 59_200)).toBe(1);
  });

  it('lets one call at a time claim a record', () => {
    const queue = new QueueIndex('orders', 'audit', 'orders.audit.dlq');
    const a = summary(0, 0, 1);
    const b = summary(0, 1, 2);
    queue.add(a);
    queue.add(b);
    expect(queue.claim([a])).toEqual([a]);
    expect(queue.claim([a, b])).toEqual([b]);
    expect(queue.isClaimed(0, 0)).toBe(true);
    queue.release([a, b]);
    expect(queue.isClaimed(0, 0)).toBe(false);
    expect(queue.claim([a, b])).toEqual([a, b]);
  });
});
