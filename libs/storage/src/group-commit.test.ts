import { ShuttingDownError, UnavailableError } from '@braid/core';
import type { BraidError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { ManualWriter, tick } from '../test/manual-writer.js';
import type { WriteOp } from './database.js';
import { GroupCommit } from './group-commit.js';
import type { CommitEntry } from './group-commit.js';

/** An entry of one op whose key names it, recording what happened to it. */
function entry(lane: object, name: string, options: { bytes?: number; sync?: boolean } = {}) {
  const events: string[] = [];
  const failures: BraidError[] = [];
  const e: CommitEntry = {
    lane,
    ops: [{ type: 'put', key: Buffer.from(name), value: Buffer.from('v') }],
    bytes: options.bytes ?? 10,
    sync: options.sync ?? false,
    onDurable: () => events.push(`durable ${name}`),
    onFailed: (error) => {
      events.push(`failed ${name}`);
      failures.push(error);
    },
  };
  return { e, events, failures };
}

const names = (ops: WriteOp[]): string[] => ops.map((op) => op.key.toString());

describe('GroupCommit', () => {
  it('merges entries submitted while a write is in flight into the next batch', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer, { maxInFlightBatches: 1 });
    const laneA = {};
    const laneB = {};
    commit.submit(entry(laneA, 'a1').e);
    await tick();
    expect(writer.batches).toHaveLength(1);
    for (const name of ['a2', 'a3']) commit.submit(entry(laneA, name).e);
    commit.submit(entry(laneB, 'b1').e);
    await tick();
    expect(writer.batches).toHaveLength(1); // still waiting for the first
    writer.batches[0]?.finish();
    await tick();
    expect(writer.batches).toHaveLength(2);
    expect(names(writer.batches[1]?.ops ?? [])).toEqual(['a2', 'a3', 'b1']);
    writer.batches[1]?.finish();
    await commit.idle();
    expect(commit.stats()).toMatchObject({ writeBatches: 2, entriesWritten: 4, unflushedBytes: 0 });
  });

  it('merges entries submitted in the same tick, even with nothing in flight', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer);
    for (let i = 0; i < 20; i++) commit.submit(entry({}, `p${i}`).e);
    await tick();
    expect(writer.batches).toHaveLength(1);
    expect(writer.batches[0]?.ops).toHaveLength(20);
  });

  it('merges entries submitted by separate callbacks of one event-loop turn', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer);
    // As requests arriving in one socket read are: each handled in its own callback, microtasks run in between.
    commit.submit(entry({}, 'a').e);
    await Promise.resolve();
    commit.submit(entry({}, 'b').e);
    queueMicrotask(() => { commit.submit(entry({}, 'c').e); });
    await tick();
    expect(writer.batches).toHaveLength(1);
    expect(writer.batches[0]?.ops).toHaveLength(3);
  });

  it('writes a batch with sync when any entry asks for fsync', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer, { maxInFlightBatches: 1 });
    commit.submit(entry({}, 'w1').e);
    await tick();
    commit.submit(entry({}, 'w2').e);
    commit.submit(entry({}, 'f1', { sync: true }).e);
    writer.batches[0]?.finish();
    await tick();
    expect(writer.batches.map((b) => b.sync)).toEqual([false, true]);
    writer.batches[1]?.finish();
    await commit.idle();
    expect(commit.stats()).toMatchObject({ writeBatches: 2, syncedWriteBatches: 1 });
  });

  it('keeps up to maxInFlightBatches in flight, never two of one lane, and reports each batch as it completes', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer, { maxInFlightBatches: 3 });
    const lanes = [{}, {}, {}, {}];
    const log: string[] = [];
    const submit = (lane: number, name: string): void => {
      const { e, events } = entry(lanes[lane] ?? {}, name);
      commit.submit({ ...e, onDurable: () => { e.onDurable(); log.push(...events); } });
    };
    // One entry per tick: each becomes its own batch while slots are free.
    for (const [lane, name] of [[0, 'a1'], [1, 'b1'], [0, 'a2'], [2, 'c1'], [3, 'd1']] as const) {
      submit(lane, name);
      await tick();
    }
    // a1, b1 and c1 are in flight; a2 waits for lane 0 although a slot was free when it came.
    expect(writer.batches.map((b) => names(b.ops))).toEqual([['a1'], ['b1'], ['c1']]);
    writer.batches[2]?.finish(); // c1 completes first
    await tick();
    expect(log).toEqual(['durable c1']);
    // The freed slot goes to d1: a2 still waits for a1.
    expect(writer.batches.map((b) => names(b.ops))).toEqual([['a1'], ['b1'], ['c1'], ['d1']]);
    writer.batches[0]?.finish();
    await tick();
    expect(names(writer.batches[4]?.ops ?? [])).toEqual(['a2']);
    for (const i of [1, 3, 4]) writer.batches[i]?.finish();
    await commit.idle();
    expect(log).toEqual(['durable c1', 'durable a1', 'durable b1', 'durable d1', 'durable a2']);
    expect(writer.maxInFlight).toBe(3);
  });

  it('splits at maxBatchBytes without reordering a lane', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer, { maxInFlightBatches: 4, maxBatchBytes: 100 });
    const lane = {};
    for (const name of ['x1', 'x2', 'x3']) commit.submit(entry(lane, name, { bytes: 60 }).e);
    commit.submit(entry({}, 'big', { bytes: 500 }).e);
    await tick();
    // x2 does not fit next to x1, so it waits for x1's batch, and x3 behind it;
    // the oversized entry goes alone in a batch of its own.
    expect(writer.batches.map((b) => names(b.ops))).toEqual([['x1'], ['big']]);
    writer.batches[0]?.finish();
    await tick();
    expect(writer.batches.map((b) => names(b.ops)).slice(2)).toEqual([['x2']]);
    writer.batches[2]?.finish();
    await tick();
    expect(writer.batches.map((b) => names(b.ops)).slice(3)).toEqual([['x3']]);
  });

  it('fails every entry of a failed batch and every queued entry, and then refuses new ones', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer, { maxInFlightBatches: 2 });
    const laneA = {};
    const a1 = entry(laneA, 'a1');
    const b1 = entry({}, 'b1');
    commit.submit(a1.e);
    await tick();
    commit.submit(b1.e);
    await tick();
    const a2 = entry(laneA, 'a2');
    commit.submit(a2.e);
    await tick();
    expect(commit.unflushedBytes).toBe(30);
    writer.batches[0]?.finish(new Error('IO error: No space left on device'));
    await tick();
    expect(a1.events).toEqual(['failed a1']);
    expect(a2.events).toEqual(['failed a2']);
    expect(a1.failures[0]).toBeInstanceOf(UnavailableError);
    expect(a1.failures[0]?.message).toMatch(/No space left on device/);
    expect(() => { commit.submit(entry({}, 'later').e); }).toThrow(UnavailableError);
    // b1 was in flight in another batch and its write succeeds: it was written, so it is acknowledged.
    writer.batches[1]?.finish();
    await commit.idle();
    expect(b1.events).toEqual(['durable b1']);
    expect(commit.unflushedBytes).toBe(0);
    expect(commit.failed).toBeInstanceOf(UnavailableError);
  });

  it('refuses entries after close and waits for those in flight', async () => {
    const writer = new ManualWriter();
    const commit = new GroupCommit(writer);
    const a = entry({}, 'a');
    commit.submit(a.e);
    await tick();
    let closed = false;
    const closing = commit.close().then(() => {
      closed = true;
    });
    expect(() => { commit.submit(entry({}, 'b').e); }).toThrow(ShuttingDownError);
    await tick();
    expect(closed).toBe(false);
    writer.batches[0]?.finish();
    await closing;
    expect(a.events).toEqual(['durable a']);
  });

  it('rejects nonsensical options', () => {
    expect(() => new GroupCommit(new ManualWriter(), { maxInFlightBatches: 0 })).toThrow(RangeError);
    expect(() => new GroupCommit(new ManualWriter(), { maxBatchBytes: -1 })).toThrow(RangeError);
  });
});
