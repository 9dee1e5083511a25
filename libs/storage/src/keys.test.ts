import { InvalidArgumentError, InvalidNameError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import {
  Keyspace,
  decodeLogKey,
  decodePartitionMetaKey,
  decodePendingTopicDropKey,
  decodeProducerKey,
  decodeSubscriptionKey,
  logKey,
  logKeyEncoder,
  logRange,
  partitionMetaKey,
  pendingTopicDropKey,
  prefixEnd,
  producerKey,
  subscriptionKey,
  subscriptionPartitionRange,
  subscriptionTopicRange,
  topicRange,
  retryStateKey,
  decodeRetryStateKey,
  retryDueKey,
  decodeRetryDueKey,
  retryDuePrefix,
  retrySubscriptionRange,
  retryPartitionStart,
  pendingRetryDropKey,
  decodePendingRetryDropKey,
  pendingRetryDropRange,
  pendingTopicDropRange,
} from './keys.js';
import type { KeyRange } from './database.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const compareTuples = (a: number[], b: number[]): number => {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

const inRange = (key: Buffer, range: KeyRange): boolean =>
  (range.gte === undefined || Buffer.compare(key, range.gte) >= 0) && (range.lt === undefined || Buffer.compare(key, range.lt) < 0);

describe('keys', () => {
  it('encodes log keys that sort bytewise like their (topic, partition, offset) tuples', () => {
    const random = prng(7);
    // Edges where a naive encoding goes wrong: byte carries, 2^32 boundaries, the top of each range.
    const pick = (edges: number[], max: number): number =>
      random() < 0.5 ? (edges[Math.floor(random() * edges.length)] ?? 0) : Math.floor(random() * max);
    const u32Edges = [0, 1, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1];
    const offsetEdges = [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER];
    const tuples = Array.from({ length: 2000 }, () => [pick(u32Edges, 2 ** 32), pick(u32Edges, 2 ** 32), pick(offsetEdges, Number.MAX_SAFE_INTEGER)]);
    const byTuple = [...tuples].sort(compareTuples);
    const byKey = tuples
      .map((t) => ({ t, key: logKey(t[0] ?? 0, t[1] ?? 0, t[2] ?? 0) }))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .map(({ t }) => t);
    expect(byKey).toEqual(byTuple);
    for (const t of tuples) {
      expect(decodeLogKey(logKey(t[0] ?? 0, t[1] ?? 0, t[2] ?? 0))).toEqual({ topicId: t[0], partition: t[1], offset: t[2] });
    }
  });

  it('lays log keys out as [0x01][topic u32][partition u32][offset u64], big-endian', () => {
    expect(logKey(1, 2, 2 ** 32 + 3).toString('hex')).toBe('01' + '00000001' + '00000002' + '0000000100000003');
    expect(logKeyEncoder(1, 2)(2 ** 32 + 3)).toEqual(logKey(1, 2, 2 ** 32 + 3));
    expect(partitionMetaKey(1, 2).toString('hex')).toBe('02' + '00000001' + '00000002');
    expect(producerKey(1, 2, 'p-é').toString('hex')).toBe('03' + '00000001' + '00000002' + Buffer.from('p-é').toString('hex'));
    expect(pendingTopicDropKey(9).toString('hex')).toBe('0601' + '00000009');
  });

  it('round-trips meta, producer and drop-marker keys', () => {
    expect(decodePartitionMetaKey(partitionMetaKey(4_000_000_000, 7))).toEqual({ topicId: 4_000_000_000, partition: 7 });
    expect(decodeProducerKey(producerKey(3, 0, 'producer-🙂'))).toEqual({ topicId: 3, partition: 0, producerId: 'producer-🙂' });
    expect(decodePendingTopicDropKey(pendingTopicDropKey(2 ** 32 - 1))).toBe(2 ** 32 - 1);
    expect(() => decodeLogKey(partitionMetaKey(1, 1))).toThrow(InvalidArgumentError);
  });

  it("gives each partition's log a range holding exactly its keys, even at the u32 edges", () => {
    for (const [topic, partition] of [[0, 0], [5, 2 ** 32 - 1], [2 ** 32 - 1, 2 ** 32 - 1]] as const) {
      const range = logRange(topic, partition);
      expect(inRange(logKey(topic, partition, 0), range)).toBe(true);
      expect(inRange(logKey(topic, partition, Number.MAX_SAFE_INTEGER), range)).toBe(true);
      expect(inRange(partitionMetaKey(topic, partition), range)).toBe(false);
      if (partition < 2 ** 32 - 1) expect(inRange(logKey(topic, partition + 1, 0), range)).toBe(false);
      if (topic < 2 ** 32 - 1) expect(inRange(logKey(topic + 1, 0, 0), range)).toBe(false);
    }
    const topic = topicRange(Keyspace.producer, 8);
    expect(inRange(producerKey(8, 2 ** 32 - 1, 'zzz'), topic)).toBe(true);
    expect(inRange(producerKey(9, 0, ''), topic)).toBe(false);
    expect(inRange(logKey(8, 0, 0), topic)).toBe(false);
  });

  it('lays subscription keys out as [0x04][topic u32][partition u32][name utf8] and decodes them', () => {
    expect(subscriptionKey(1, 2, 'billing.v2').toString('hex')).toBe('04' + '00000001' + '00000002' + Buffer.from('billing.v2').toString('hex'));
    const name = 'x'.repeat(249);
    expect(decodeSubscriptionKey(subscriptionKey(2 ** 32 - 1, 2 ** 32 - 1, name))).toEqual({ topicId: 2 ** 32 - 1, partition: 2 ** 32 - 1, subscription: name });
    expect(() => decodeSubscriptionKey(producerKey(1, 2, 'billing'))).toThrow(InvalidArgumentError);
    // A key with no name is the partition's prefix, not a subscription.
    expect(() => decodeSubscriptionKey(subscriptionPartitionRange(1, 2).gte ?? Buffer.alloc(0))).toThrow(InvalidArgumentError);
  });

  it('refuses subscription names that break the naming rules', () => {
    for (const bad of ['', 'a/b', 'a\u0000b', 'é', 'x'.repeat(250), '..']) {
      expect(() => subscriptionKey(1, 0, bad)).toThrow(InvalidNameError);
    }
    expect(() => subscriptionKey(2 ** 32, 0, 'ok')).toThrow(InvalidArgumentError);
  });

  it('sorts subscription keys by (topic, partition, name bytes) and ranges them per partition and per topic', () => {
    const random = prng(11);
    const names = ['a', 'a-b', 'a.b', 'a0', 'aB', 'ab', 'b', 'Z', '_', '-', 'orders.billing', 'x'.repeat(249)];
    const topics = [0, 1, 255, 256, 2 ** 32 - 1];
    const partitions = [0, 1, 65_536, 2 ** 32 - 1];
    const tuples = Array.from({ length: 1500 }, () => ({
      topicId: topics[Math.floor(random() * topics.length)] ?? 0,
      partition: partitions[Math.floor(random() * partitions.length)] ?? 0,
      subscription: names[Math.floor(random() * names.length)] ?? 'a',
    }));
    const byTuple = [...tuples].sort(
      (a, b) => a.topicId - b.topicId || a.partition - b.partition || Buffer.compare(Buffer.from(a.subscription), Buffer.from(b.subscription)),
    );
    const byKey = [...tuples].sort((a, b) =>
      Buffer.compare(subscriptionKey(a.topicId, a.partition, a.subscription), subscriptionKey(b.topicId, b.partition, b.subscription)),
    );
    expect(byKey).toEqual(byTuple);

    for (const { topicId, partition, subscription } of tuples.slice(0, 200)) {
      const key = subscriptionKey(topicId, partition, subscription);
      for (const t of topics) {
        expect(inRange(key, subscriptionTopicRange(t))).toBe(t === topicId);
        for (const p of partitions) expect(inRange(key, subscriptionPartitionRange(t, p))).toBe(t === topicId && p === partition);
      }
    }
    // Other keyspaces of the same partition stay out of its subscription range.
    const range = subscriptionPartitionRange(3, 4);
    expect(inRange(producerKey(3, 4, 'a'), range)).toBe(false);
    expect(inRange(partitionMetaKey(3, 4), range)).toBe(false);
    expect(inRange(logKey(3, 4, 0), subscriptionTopicRange(3))).toBe(false);
  });

  it('leaves room for per-subscription keys after a 0x00 byte, outside every other subscription', () => {
    // What a later issue may add: [0x04][topic][partition][name][0x00][...].
    const subKey = Buffer.concat([subscriptionKey(1, 0, 'a'), Buffer.from([0x00, 0xff, 0xff])]);
    const others = ['-', 'A', 'a-', 'a.', 'a0', 'aa', 'b'].map((n) => subscriptionKey(1, 0, n));
    const own = subscriptionKey(1, 0, 'a');
    expect(Buffer.compare(own, subKey)).toBeLessThan(0);
    for (const other of others) {
      // Nothing sorts between a subscription's key and its sub-keys.
      const between = Buffer.compare(own, other) < 0 && Buffer.compare(other, subKey) < 0;
      expect(between, other.toString()).toBe(false);
    }
  });

  it('computes the end of a prefix by carrying over 0xff bytes', () => {
    expect(prefixEnd(Buffer.from([1, 2, 0xff, 0xff]))).toEqual(Buffer.from([1, 3]));
    expect(prefixEnd(Buffer.from([0xff, 0xff]))).toBeUndefined();
  });

  it('rejects numbers a key cannot hold', () => {
    expect(() => logKey(-1, 0, 0)).toThrow(InvalidArgumentError);
    expect(() => logKey(2 ** 32, 0, 0)).toThrow(InvalidArgumentError);
    expect(() => logKey(0, 1.5, 0)).toThrow(InvalidArgumentError);
    expect(() => logKey(0, 0, 2 ** 53)).toThrow(InvalidArgumentError);
    expect(() => logKeyEncoder(0, 0)(-1)).toThrow(InvalidArgumentError);
  });
  it('lays retry keys out as [0x07][topic][partition][name][0x00][offset] and [0x08][dueMs][same tuple], and decodes them', () => {
    const tuple = '00000001' + '00000002' + Buffer.from('push').toString('hex') + '00' + '0000000100000003';
    expect(retryStateKey(1, 2, 'push', 2 ** 32 + 3).toString('hex')).toBe('07' + tuple);
    expect(retryDueKey(2 ** 40, 1, 2, 'push', 2 ** 32 + 3).toString('hex')).toBe('08' + '0000010000000000' + tuple);
    expect(retryDuePrefix(5).toString('hex')).toBe('08' + '0000000000000005');
    const name = 'x'.repeat(249);
    const full = { topicId: 2 ** 32 - 1, partition: 2 ** 32 - 1, subscription: name, offset: Number.MAX_SAFE_INTEGER };
    expect(decodeRetryStateKey(retryStateKey(full.topicId, full.partition, name, full.offset))).toEqual(full);
    expect(decodeRetryDueKey(retryDueKey(Number.MAX_SAFE_INTEGER, full.topicId, full.partition, name, full.offset))).toEqual({ ...full, dueMs: Number.MAX_SAFE_INTEGER });
    expect(() => decodeRetryStateKey(retryDueKey(1, 1, 2, 'push', 3))).toThrow(InvalidArgumentError);
    expect(() => decodeRetryDueKey(retryStateKey(1, 2, 'push', 3))).toThrow(InvalidArgumentError);
    // No terminator where the name must end: not a retry key.
    const broken = retryStateKey(1, 2, 'push', 3);
    broken[broken.length - 9] = 0x41;
    expect(() => decodeRetryStateKey(broken)).toThrow(InvalidArgumentError);
    expect(() => retryStateKey(1, 2, 'a/b', 3)).toThrow(InvalidNameError);
    expect(() => retryStateKey(1, 2, 'a', -3)).toThrow(InvalidArgumentError);
    expect(() => retryDueKey(-1, 1, 2, 'a', 3)).toThrow(InvalidArgumentError);
  });

  it("ranges one subscription's retry keys exactly, even beside names that extend it", () => {
    const names = ['a', 'a-b', 'a.b', 'a0', 'ab', 'b', 'Z'];
    const partitions = [0, 1, 2 ** 32 - 1];
    for (const name of names) {
      for (const partition of partitions) {
        const range = retrySubscriptionRange(7, partition, name);
        for (const other of names) {
          for (const p of partitions) {
            for (const offset of [0, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
              expect(inRange(retryStateKey(7, p, other, offset), range)).toBe(other === name && p === partition);
            }
          }
        }
        expect(inRange(retryStateKey(8, partition, name, 0), range)).toBe(false);
      }
    }
    // Sorted by (topic, partition, name, offset), and the topic range holds exactly the topic's retry keys.
    const sorted = ['a', 'a-b', 'a.b', 'a0', 'b'].flatMap((name) => [0, 255, 256].map((offset) => retryStateKey(7, 3, name, offset)));
    expect([...sorted].sort((a, b) => Buffer.compare(a, b))).toEqual(sorted);
    expect(inRange(retryStateKey(7, 2 ** 32 - 1, 'zzz', Number.MAX_SAFE_INTEGER), topicRange(Keyspace.retry, 7))).toBe(true);
    expect(inRange(retryStateKey(8, 0, 'a', 0), topicRange(Keyspace.retry, 7))).toBe(false);
    expect(Buffer.compare(retryPartitionStart(7, 3), retryStateKey(7, 3, '-', 0))).toBeLessThan(0);
    expect(Buffer.compare(retryStateKey(7, 2, 'zzz', Number.MAX_SAFE_INTEGER), retryPartitionStart(7, 3))).toBeLessThan(0);
  });

  it('round-trips pending-retry-drop markers and keeps them apart from topic-drop markers', () => {
    const marker = pendingRetryDropKey(9, 'push.v2');
    expect(marker.toString('hex')).toBe('0602' + '00000009' + Buffer.from('push.v2').toString('hex'));
    expect(decodePendingRetryDropKey(marker)).toEqual({ topicId: 9, subscription: 'push.v2' });
    expect(inRange(marker, pendingRetryDropRange())).toBe(true);
    expect(inRange(marker, pendingTopicDropRange())).toBe(false);
    expect(inRange(pendingTopicDropKey(9), pendingRetryDropRange())).toBe(false);
    expect(() => decodePendingRetryDropKey(pendingTopicDropKey(9))).toThrow(InvalidArgumentError);
  });
});
