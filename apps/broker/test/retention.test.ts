// Retention on a real broker: records past a topic's age or size limit are
// deleted in the background and the log start moves forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, clients, createTopic, publish } from './grpc-helpers.js';
import type { DescribeTopicResponse } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokerArgs: ['--retention-check-interval-ms', '100'] });
  api = clients(cluster.broker.address);
});

afterAll(async () => {
  api.close();
  await cluster.destroy();
});

async function partition0(topic: string): Promise<{ highWatermark: number; logStartOffset: number; sizeBytes: number }> {
  const described = await call<DescribeTopicResponse>((cb) => { api.admin.describeTopic({ name: topic }, cb); });
  const info = described.partitions[0];
  if (!info) throw new Error('no partition 0');
  return info;
}

const value = Buffer.alloc(1000, 'x');

describe('retention', () => {
  it('deletes records older than retention_ms', async () => {
    await createTopic(api.admin, 'by-age', { partitions: 1, retentionMs: 1500 });
    await publish(api.producer, { topic: 'by-age', records: Array.from({ length: 50 }, () => ({ value, headers: {} })) });
    expect(await partition0('by-age')).toMatchObject({ highWatermark: 50, logStartOffset: 0 });
    await expect.poll(() => partition0('by-age'), { timeout: 15_000, interval: 200 }).toMatchObject({ highWatermark: 50, logStartOffset: 50 });
  });

  it('keeps each partition under retention_bytes by deleting the oldest records', async () => {
    await createTopic(api.admin, 'by-size', { partitions: 1, retentionBytes: 20_000 });
    for (let i = 0; i < 10; i++) {
      await publish(api.producer, { topic: 'by-size', records: Array.from({ length: 10 }, () => ({ value, headers: {} })) });
    }
    await expect.poll(async () => (await partition0('by-size')).sizeBytes, { timeout: 15_000, interval: 200 }).toBeLessThanOrEqual(20_000);
    const after = await partition0('by-size');
    expect(after.highWatermark).toBe(100);
    // The newest records are kept: only a prefix went.
    expect(after.logStartOffset).toBeGreaterThan(70);
    expect(after.logStartOffset).toBeLessThan(100);
  });
});
