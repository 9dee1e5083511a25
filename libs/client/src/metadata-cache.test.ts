import { describe, expect, it } from 'vitest';
import { silentLogger } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { Durability, PartitionStatus } from '@braid/proto';
import type { GetMetadataResponse, TopicMetadata } from '@braid/proto';
import { MetadataCache, topicRoute } from './metadata-cache.js';

function topicMetadata(name: string, partitions: number, leaders: string[]): TopicMetadata {
  return {
    topic: { name, id: 1, createdAtMs: 0, config: { partitions, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 512 } },
    partitions: leaders.map((leaderAddress, partition) => ({
      partition,
      leaderId: `b${partition}`,
      leaderAddress,
      leaderEpoch: partition + 1,
      status: PartitionStatus.PARTITION_STATUS_AVAILABLE,
      highWatermark: 0,
      logStartOffset: 0,
      sizeBytes: 0,
    })),
    subscriptions: [],
  };
}

const response = (...topics: TopicMetadata[]): GetMetadataResponse => ({ brokers: [], topics, version: 1 });

describe('topicRoute', () => {
  it('maps partitions to leader addresses and epochs, falling back to the answering broker', () => {
    const route = topicRoute({ response: response(topicMetadata('t', 3, ['a:1', '', 'c:3'])), address: 'boot:1' }, 't', 42);
    expect(route).toEqual({
      topic: 't',
      partitions: 3,
      leaders: [
        { address: 'a:1', leaderEpoch: 1 },
        { address: 'boot:1', leaderEpoch: 2 },
        { address: 'c:3', leaderEpoch: 3 },
      ],
      maxRecordBytes: 512,
      fetchedAt: 42,
    });
  });

  it('throws TOPIC_NOT_FOUND when the topic is not in the answer', () => {
    expect(() => topicRoute({ response: response(), address: 'a' }, 't', 0)).toThrow(expect.objectContaining({ reason: 'TOPIC_NOT_FOUND' }) as Error);
  });
});

describe('MetadataCache', () => {
  it('joins concurrent loads, refreshes when stale and takes leader hints', async () => {
    const clock = new FakeClock(0);
    let fetches = 0;
    const cache = new MetadataCache({
      fetch: () => {
        fetches += 1;
        return Promise.resolve({ response: response(topicMetadata('t', 2, ['a:1', 'a:1'])), address: 'a:1' });
      },
      clock,
      maxAgeMs: 1000,
      logger: silentLogger,
    });
    const [one, two] = await Promise.all([cache.load('t'), cache.load('t')]);
    expect(one).toBe(two);
    expect(fetches).toBe(1);
    cache.refreshIfStale(one);
    expect(fetches).toBe(1);
    await clock.advance(1000);
    cache.refreshIfStale(one);
    await cache.refresh('t');
    // The explicit refresh joined the one the stale route started.
    expect(fetches).toBe(2);
    cache.setLeader('t', 1, 'b:2');
    expect(cache.get('t')?.leaders).toEqual([{ address: 'a:1', leaderEpoch: 1 }, { address: 'b:2', leaderEpoch: 0 }]);
  });
});
