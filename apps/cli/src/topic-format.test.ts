import { describe, expect, it } from 'vitest';
import { Durability, PartitionStatus } from '@braid/client';
import type { Topic } from '@braid/client';
import { formatTable, formatTopicDescription, formatTopicList } from './topic-format.js';

const orders: Topic = {
  name: 'orders',
  id: 7,
  createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5),
  config: { partitions: 2, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 1048576 },
};

describe('topic formatting', () => {
  it('aligns columns without trailing blanks', () => {
    expect(formatTable(['A', 'LONG'], [['xyz', '1'], ['q', '']])).toBe('A    LONG\nxyz  1\nq\n');
  });

  it('lists topics with zero limits spelled out', () => {
    const audit: Topic = { ...orders, name: 'audit', config: { partitions: 1, retentionMs: 3_600_000, retentionBytes: 10, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 0 } };
    expect(formatTopicList([audit, orders])).toBe(
      'NAME    PARTITIONS  DURABILITY  RETENTION_MS  RETENTION_BYTES  MAX_RECORD_BYTES\n' +
        'audit   1           write       3600000       10               default\n' +
        'orders  2           fsync       forever       unlimited        1048576\n',
    );
    expect(formatTopicList([])).toBe('NAME  PARTITIONS  DURABILITY  RETENTION_MS  RETENTION_BYTES  MAX_RECORD_BYTES\n');
  });

  it('describes settings and partitions', () => {
    const text = formatTopicDescription({
      topic: orders,
      partitions: [
        { partition: 0, leaderId: 'b-1', leaderAddress: '10.0.0.1:7401', leaderEpoch: 3, status: PartitionStatus.PARTITION_STATUS_AVAILABLE, highWatermark: 120, logStartOffset: 0, sizeBytes: 0 },
        { partition: 1, leaderId: '', leaderAddress: '', leaderEpoch: 0, status: PartitionStatus.PARTITION_STATUS_UNAVAILABLE, highWatermark: 0, logStartOffset: 0, sizeBytes: 0 },
      ],
    });
    expect(text).toBe(
      [
        'Topic:             orders',
        'Id:                7',
        'Created:           2025-01-02T03:04:05.000Z',
        'Partitions:        2',
        'Durability:        fsync',
        'Retention ms:      forever',
        'Retention bytes:   unlimited',
        'Max record bytes:  1048576',
        '',
        'PARTITION  LEADER  ADDRESS        EPOCH  STATUS       HIGH_WATERMARK',
        '0          b-1     10.0.0.1:7401  3      AVAILABLE    120',
        '1          -       -              0      UNAVAILABLE  0',
        '',
      ].join('\n'),
    );
  });
});
