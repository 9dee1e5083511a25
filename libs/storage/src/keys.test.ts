import { InvalidArgumentError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import {
  Keyspace,
  decodeLogKey,
  decodePartitionMetaKey,
  decodePendingTopicDropKey,
  decodeProducerKey,
  logKey,
  logKeyEncoder,
  logRange,
  partitionMetaKey,
  pendingTopicDropKey,
  prefixEnd,
  producerKey,
  topicRange,
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
});
