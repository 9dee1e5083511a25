import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoredRecord } from '@braid/proto';
import { LogStore } from '@braid/storage';
import { PartitionFeed, feedCapacity } from './partition-feed.js';

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-feed-'));
  store = await LogStore.open(dir);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function publish(count: number): Promise<void> {
  const payloads = Array.from({ length: count }, (_, i) =>
    Buffer.from(StoredRecord.encode({ topic: '', partition: 0, offset: 0, key: Buffer.from(`k${i % 7}`), value: Buffer.from(`v${i}`), headers: {}, publishTimeMs: 1, deliverAtMs: 0, targetSubscription: '', redriveCount: 0 }).finish()),
  );
  await store.partition(1, 0).append({ payloads, timestampMs: 1 }, 'write');
}

describe('PartitionFeed', () => {
  it('hands every record out exactly once, whether taken from the head or skipped over', async () => {
    await publish(5000);
    const handedOut = new Set<number>();
    const feed = new PartitionFeed('t', 0, store.partition(1, 0), 0, (offset) => !handedOut.has(offset));
    let rounds = 0;
    while (handedOut.size < 5000 && rounds++ < 100) {
      await feed.fill();
      // Take odd offsets first on even rounds (holes in the middle), everything on odd rounds.
      const taken: number[] = [];
      for (const { record, slot } of feed.records()) {
        if (rounds % 2 === 1 || record.offset % 2 === 1) {
          expect(handedOut.has(record.offset)).toBe(false);
          handedOut.add(record.offset);
          taken.push(slot);
        }
      }
      for (const slot of taken) feed.remove(slot);
      expect(feed.size).toBeLessThanOrEqual(feedCapacity);
    }
    expect(handedOut.size).toBe(5000);
    expect(feed.size).toBe(0);
  });

  it('reads key and size and keeps the stored bytes', async () => {
    await publish(3);
    const feed = new PartitionFeed('orders', 0, store.partition(1, 0), 1, () => true);
    await feed.fill();
    const [first] = [...feed.records()];
    expect(first?.record).toMatchObject({ partition: 0, offset: 1, keyId: 'k1', bytes: 'k1'.length + 'v1'.length });
    expect(first?.record.key?.toString()).toBe('k1');
    expect(Buffer.from(StoredRecord.decode(first?.record.payload ?? new Uint8Array()).value).toString()).toBe('v1');
  });
});
