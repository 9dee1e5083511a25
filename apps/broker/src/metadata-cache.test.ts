import { describe, expect, it } from 'vitest';
import { GetMetadataResponse, PartitionStatus } from '@braid/proto';
import { StaleEpochError } from '@braid/core';
import { MetadataCache } from './metadata-cache.js';
import type { TopicView } from './metadata-cache.js';
import { assertLeads } from './partition-leadership.js';

function snapshot(version: number, leaderEpoch: number, leaderAddress = '10.0.0.1:7401'): GetMetadataResponse {
  return GetMetadataResponse.fromPartial({
    version,
    brokers: [{ brokerId: 'b1', address: leaderAddress, live: true }],
    topics: [
      {
        topic: { name: 't', id: 1, config: { partitions: 1 } },
        partitions: [{ partition: 0, leaderId: 'b1', leaderAddress, leaderEpoch, status: PartitionStatus.PARTITION_STATUS_AVAILABLE }],
      },
    ],
  });
}

function topic(cache: MetadataCache): TopicView {
  const view = cache.topic('t');
  if (!view) throw new Error('topic t is not cached');
  return view;
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { reason: string }).reason;
  }
  return 'led';
}

describe('MetadataCache leadership and leader epochs', () => {
  it('leads nothing before the first registration', () => {
    const cache = new MetadataCache();
    cache.replace(snapshot(1, 3));
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(false);
    expect(reasonOf(() => assertLeads(cache, 'b1', topic(cache), 0))).toBe('PARTITION_UNAVAILABLE');
  });

  it('leads with its own epoch, and with a newer one than metadata that has not caught up', () => {
    const cache = new MetadataCache();
    cache.replace(snapshot(1, 3));
    cache.setLeaderEpoch(3);
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(true);
    cache.setLeaderEpoch(5);
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(true);
    expect(cache.ledPartitions(topic(cache), 'b1')).toEqual([0]);
  });

  it('stops leading when the metadata shows a newer process under its id, and redirects there', () => {
    const cache = new MetadataCache();
    cache.replace(snapshot(1, 3, '10.0.0.1:7401'));
    cache.setLeaderEpoch(3);
    cache.replace(snapshot(2, 4, '10.0.0.2:7401'));
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(false);
    let redirect: unknown;
    try {
      assertLeads(cache, 'b1', topic(cache), 0);
    } catch (error) {
      redirect = error;
    }
    expect(redirect).toMatchObject({ reason: 'NOT_LEADER', leaderAddress: '10.0.0.2:7401' });
  });

  it('leads nothing while fenced, until it registers again; each change is announced', () => {
    const cache = new MetadataCache();
    cache.replace(snapshot(1, 3));
    cache.setLeaderEpoch(3);
    let changes = 0;
    cache.on('change', () => { changes++; });
    cache.fence();
    cache.fence();
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(false);
    expect(reasonOf(() => assertLeads(cache, 'b1', topic(cache), 0))).toBe('PARTITION_UNAVAILABLE');
    cache.setLeaderEpoch(6);
    expect(cache.leadership(topic(cache), 0, 'b1').leads).toBe(true);
    expect(changes).toBe(2);
  });

  it('words a stale epoch by which side is behind', () => {
    expect(new StaleEpochError('t', 0, 2, 3).message).toContain('is stale (current 3)');
    expect(new StaleEpochError('t', 0, 4, 3).message).toContain("newer than this broker's (3)");
  });
});
