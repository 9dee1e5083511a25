import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import type { ProducerBatch } from './producer-batch.js';
import { RecordAccumulator } from './record-accumulator.js';
import type { RecordAccumulatorOptions } from './record-accumulator.js';
import { SendCompletion } from './send-completion.js';

function setup(options: Partial<RecordAccumulatorOptions> = {}) {
  const clock = new FakeClock(0);
  const sealed: ProducerBatch[] = [];
  const state = { urgent: false };
  const accumulator = new RecordAccumulator({
    topic: 't',
    lingerMs: 10,
    maxBatchRecords: 3,
    maxBatchBytes: 1000,
    clock,
    release: () => undefined,
    onSealed: (batch) => sealed.push(batch),
    urgent: () => state.urgent,
    ...options,
  });
  const completion = new SendCompletion(100, false, () => undefined, () => undefined, { completionDone: () => undefined });
  let n = 0;
  const append = (partition: number, size = 10): void => {
    const value = Buffer.from(`v${n}`);
    accumulator.append(partition, { key: undefined, value, headers: {}, partition, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }, size, completion, n++);
  };
  const shape = (): [number, string[]][] => sealed.map((b) => [b.partition, b.records.map((r) => r.value.toString())]);
  return { clock, sealed, state, accumulator, append, shape };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RecordAccumulator', () => {
  it('seals a batch lingerMs after its first record, per partition', async () => {
    const s = setup();
    s.append(0);
    await s.clock.advance(4);
    s.append(1);
    s.append(0);
    await s.clock.advance(5);
    expect(s.sealed).toHaveLength(0);
    await s.clock.advance(1);
    expect(s.shape()).toEqual([[0, ['v0', 'v2']]]);
    await s.clock.advance(4);
    expect(s.shape()).toEqual([[0, ['v0', 'v2']], [1, ['v1']]]);
  });

  it('seals at maxBatchRecords without waiting for linger', async () => {
    const s = setup();
    for (let i = 0; i < 4; i++) s.append(0);
    expect(s.shape()).toEqual([[0, ['v0', 'v1', 'v2']]]);
    await s.clock.advance(10);
    expect(s.shape()).toEqual([[0, ['v0', 'v1', 'v2']], [0, ['v3']]]);
  });

  it('starts a new batch rather than exceed maxBatchBytes, and sends an oversized record alone', () => {
    const s = setup({ maxBatchBytes: 100, maxBatchRecords: 100 });
    s.append(0, 60);
    s.append(0, 60);
    expect(s.shape()).toEqual([[0, ['v0']]]);
    s.append(0, 500);
    expect(s.shape()).toEqual([[0, ['v0']], [0, ['v1']], [0, ['v2']]]);
  });

  it('with lingerMs 0, or while a flush waits, seals at the end of the tick', async () => {
    const s = setup({ lingerMs: 0 });
    s.append(0);
    s.append(0);
    s.append(1);
    expect(s.sealed).toHaveLength(0);
    await tick();
    expect(s.shape()).toEqual([[0, ['v0', 'v1']], [1, ['v2']]]);

    const u = setup();
    u.state.urgent = true;
    u.append(0);
    await tick();
    expect(u.sealed).toHaveLength(1);
  });

  it('sealAll() seals every open batch at once', () => {
    const s = setup();
    s.append(0);
    s.append(2);
    s.accumulator.sealAll();
    expect(s.shape()).toEqual([[0, ['v0']], [2, ['v1']]]);
    expect(s.accumulator.takeAll()).toEqual([]);
  });
});
