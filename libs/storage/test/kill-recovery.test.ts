import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from '../src/index.js';
import { runAndKill } from './kill-child.js';
import { tempDir } from './temp-dir.js';

const PARTITIONS = 4;

interface Ack {
  partition: number;
  baseOffset: number;
  count: number;
  baseSequence: number;
}

/** A subscription save the writer saw resolve: its cursor, and the batch whose upper half it acknowledged. */
interface SubSave {
  partition: number;
  cursor: number;
  baseOffset: number;
}

/** Runs kill-writer.ts, SIGKILLs it `runMs` after its first acknowledgement, and returns what it acknowledged. */
async function runAndKillWriter(dir: string, runMs: number): Promise<{ acks: Ack[]; subs: SubSave[] }> {
  const lines = await runAndKill('kill-writer.ts', [dir, String(PARTITIONS)], 'ack', runMs);
  const fields = (prefix: string): number[][] => lines.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length).split(' ').map(Number));
  const acks = fields('ack ').map(([partition, baseOffset, count, baseSequence]) => ({
    partition: partition ?? -1,
    baseOffset: baseOffset ?? -1,
    count: count ?? -1,
    baseSequence: baseSequence ?? -1,
  }));
  const subs = fields('sub ').map(([partition, cursor, baseOffset]) => ({ partition: partition ?? -1, cursor: cursor ?? -1, baseOffset: baseOffset ?? -1 }));
  return { acks, subs };
}

let store: LogStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('recovery after kill -9', () => {
  it('keeps every acknowledged record and subscription save, and continues offsets without gaps or reuse', async () => {
    const dir = tempDir('braid-kill-');
    const { acks, subs } = await runAndKillWriter(dir, 1000);
    expect(acks.length).toBeGreaterThan(20);
    expect(subs.length).toBeGreaterThan(20);

    store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
    for (let p = 0; p < PARTITIONS; p++) {
      const log = store.partition(1, p);
      const mine = acks.filter((a) => a.partition === p);
      const lastAck = mine.at(-1);
      if (!lastAck) throw new Error(`no acknowledgement for partition ${p}`);
      const ackedEnd = lastAck.baseOffset + lastAck.count;
      // At most the one batch in flight at the kill may have become durable unacknowledged.
      expect(log.highWatermark).toBeGreaterThanOrEqual(ackedEnd);
      expect(log.highWatermark).toBeLessThanOrEqual(ackedEnd + 10);

      // Every offset below the high watermark is there, in order, with the payload it was given.
      const seen: string[] = [];
      for (let next = 0; next < log.highWatermark; ) {
        const records = await log.read(next, { maxRecords: 1000, maxBytes: 1 << 20 });
        expect(records[0]?.offset).toBe(next);
        expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => next + i));
        seen.push(...records.map((r) => r.payload.toString().replace(/\.+$/, '')));
        next += records.length;
      }
      for (const ack of mine) {
        for (let i = 0; i < ack.count; i++) expect(seen[ack.baseOffset + i]).toBe(`p${p}-s${ack.baseSequence + i}`);
      }

      // The producer state came back with the records: a retry of the last acknowledged batch is a duplicate.
      const again = Array.from({ length: lastAck.count }, (_, i) => Buffer.from(`p${p}-s${lastAck.baseSequence + i}`));
      const retry = await log.append(
        { payloads: again, timestampMs: Date.now(), producer: { id: `writer-${p}`, baseSequence: lastAck.baseSequence } },
        'fsync',
      );
      expect(retry).toEqual({ baseOffset: lastAck.baseOffset, duplicate: true });

      // The subscription state is the last save that resolved, or the one in flight at the kill: never older, never invented.
      const lastSave = subs.filter((s) => s.partition === p).at(-1);
      if (!lastSave) throw new Error(`no subscription save for partition ${p}`);
      const state = await store.subscriptions().load(1, p, 'kill-sub');
      if (!state) throw new Error(`no subscription state for partition ${p}`);
      expect(state.cursor).toBeGreaterThanOrEqual(lastSave.cursor);
      expect(state.cursor).toBeLessThanOrEqual(Math.min(lastSave.baseOffset + 10, log.highWatermark));
      for (let o = lastSave.baseOffset + 5; o < lastSave.baseOffset + 10; o++) expect(o < state.cursor || state.acked.has(o)).toBe(true);
      for (const [offset, count] of state.attempts) {
        expect(offset).toBeGreaterThanOrEqual(state.cursor);
        expect(state.acked.has(offset)).toBe(false);
        expect(count).toBe(1);
      }

      // New appends continue right at the recovered high watermark.
      const hw = log.highWatermark;
      expect((await log.append({ payloads: [Buffer.from('after')], timestampMs: Date.now() }, 'fsync')).baseOffset).toBe(hw);
    }
  });
});
