import { describe, expect, it } from 'vitest';
import { Durability, PartitionStatus } from '@braid/client';
import type { GetMetadataResponse, PartitionInfo } from '@braid/client';
import { formatBrokerList, formatBrokerListJson, formatDuration, formatLease } from './cluster-format.js';
import type { BrokerJson } from './cluster-format.js';

const nowMs = Date.UTC(2025, 0, 2, 3, 4, 5);

function partition(n: number, leaderId: string): PartitionInfo {
  return {
    partition: n, leaderId, leaderAddress: '', leaderEpoch: 1, status: PartitionStatus.PARTITION_STATUS_AVAILABLE,
    highWatermark: 0, logStartOffset: 0, sizeBytes: 0,
  };
}

const config = { partitions: 0, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 0 };

const metadata: GetMetadataResponse = {
  version: 12,
  // Out of id order on purpose: the output is sorted.
  brokers: [
    { brokerId: 'b-2', address: '10.0.0.2:7401', live: false, leaseExpiresAtMs: nowMs - 3_000, registeredAtMs: nowMs - 60_000, leaderEpoch: 2 },
    { brokerId: 'b-1', address: '10.0.0.1:7401', live: true, leaseExpiresAtMs: nowMs + 7_200, registeredAtMs: nowMs - 60_000, leaderEpoch: 4 },
    { brokerId: 'b-3', address: '10.0.0.3:7401', live: false, leaseExpiresAtMs: 0, registeredAtMs: 0, leaderEpoch: 0 },
  ],
  topics: [
    { topic: { name: 'orders', id: 1, createdAtMs: 0, config }, partitions: [partition(0, 'b-1'), partition(1, 'b-2'), partition(2, 'b-1')], subscriptions: [] },
    { topic: { name: 'audit', id: 2, createdAtMs: 0, config }, partitions: [partition(0, 'b-1'), partition(1, '')], subscriptions: [] },
  ],
};

describe('cluster formatting', () => {
  it('lists brokers by id with status, lease against now, leader epoch and partitions led', () => {
    expect(formatBrokerList(metadata, nowMs)).toBe(
      [
        'BROKER_ID  ADDRESS        STATUS  LEASE             EPOCH  PARTITIONS_LED',
        'b-1        10.0.0.1:7401  live    expires in 7.2 s  4      3',
        'b-2        10.0.0.2:7401  down    expired 3 s ago   2      1',
        'b-3        10.0.0.3:7401  down    -                 -      0',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header without brokers', () => {
    expect(formatBrokerList({ brokers: [], topics: [] }, nowMs)).toBe('BROKER_ID  ADDRESS  STATUS  LEASE  EPOCH  PARTITIONS_LED\n');
  });

  it('prints one JSON object per broker per line', () => {
    const lines = formatBrokerListJson(metadata, nowMs).trimEnd().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as BrokerJson);
    expect(parsed).toEqual([
      {
        brokerId: 'b-1', address: '10.0.0.1:7401', live: true, status: 'live',
        leaseExpiresAt: '2025-01-02T03:04:12.200Z', leaseRemainingMs: 7_200, registeredAt: '2025-01-02T03:03:05.000Z', leaderEpoch: 4, partitionsLed: 3,
      },
      {
        brokerId: 'b-2', address: '10.0.0.2:7401', live: false, status: 'down',
        leaseExpiresAt: '2025-01-02T03:04:02.000Z', leaseRemainingMs: -3_000, registeredAt: '2025-01-02T03:03:05.000Z', leaderEpoch: 2, partitionsLed: 1,
      },
      { brokerId: 'b-3', address: '10.0.0.3:7401', live: false, status: 'down', leaseExpiresAt: null, leaseRemainingMs: null, registeredAt: null, leaderEpoch: null, partitionsLed: 0 },
    ]);
    expect(formatBrokerListJson({ brokers: [], topics: [] }, nowMs)).toBe('');
  });

  it('words lease times from sub-second to hours', () => {
    expect(formatLease(nowMs + 450, nowMs)).toBe('expires in 0.5 s');
    expect(formatLease(nowMs, nowMs)).toBe('expired 0 s ago');
    expect(formatLease(nowMs - 125_000, nowMs)).toBe('expired 2 min 05 s ago');
    expect(formatDuration(3 * 3_600_000 + 4 * 60_000)).toBe('3 h 04 min');
    expect(formatDuration(45_000)).toBe('45 s');
  });
});
