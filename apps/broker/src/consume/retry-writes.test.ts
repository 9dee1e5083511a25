import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '@braid/storage';
import type { RetryKey, RetryState } from '@braid/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryWrites } from './retry-writes.js';

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-retry-writes-'));
  store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
});

afterEach(async () => {
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function state(offset: number, dueMs: number): RetryState {
  return {
    topicId: 1,
    partition: 0,
    subscription: 'push',
    offset,
    attempts: [{ attempt: 1, timeMs: 1_000, memberId: 'm', disposition: 'nack', reason: 'flaky', errorClass: 'Error' }],
    dueMs,
    deadLettering: false,
  };
}

function writes(): { writes: RetryWrites; putFailed: RetryState[][]; removeFailed: RetryKey[][] } {
  const putFailed: RetryState[][] = [];
  const removeFailed: RetryKey[][] = [];
  const w = new RetryWrites({
    store: () => store.retries(),
    putFailed: (states) => putFailed.push([...states]),
    removeFailed: (keys) => removeFailed.push([...keys]),
  });
  return { writes: w, putFailed, removeFailed };
}

describe('RetryWrites', () => {
  it('hands the puts and the removes of one turn to the store as one call each, and they land', async () => {
    const { writes: w } = writes();
    const put = vi.spyOn(store.retries(), 'put');
    const remove = vi.spyOn(store.retries(), 'remove');
    for (let offset = 0; offset < 5; offset++) w.put(state(offset, 5_000 + offset), undefined);
    expect(put).not.toHaveBeenCalled();
    await w.settled();
    expect(put).toHaveBeenCalledTimes(1);
    expect(put.mock.calls[0]?.[0]).toHaveLength(5);
    expect(await store.retries().get(state(3, 0))).toMatchObject({ offset: 3, dueMs: 5_003 });
    expect((await store.retries().due(10_000, 100)).map((s) => s.offset)).toEqual([0, 1, 2, 3, 4]);

    // Settled: removed with the due times they were written with.
    w.remove(state(1, 0), 5_001);
    w.remove(state(3, 0), 5_003);
    await w.settled();
    expect(remove).toHaveBeenCalledTimes(1);
    expect(await store.retries().get(state(1, 0))).toBeUndefined();
    expect(await store.retries().get(state(3, 0))).toBeUndefined();
    expect((await store.retries().due(10_000, 100)).map((s) => s.offset)).toEqual([0, 2, 4]);
  });

  it('replaces a state written in an earlier turn, moving its due entry', async () => {
    const { writes: w } = writes();
    w.put(state(7, 2_000), undefined);
    await w.settled();
    w.put({ ...state(7, 9_000), attempts: [...state(7, 0).attempts, { attempt: 2, timeMs: 2_000, memberId: 'm', disposition: 'nack', reason: 'again', errorClass: 'Error' }] }, 2_000);
    await w.settled();
    expect(await store.retries().get(state(7, 0))).toMatchObject({ dueMs: 9_000, attempts: [{ attempt: 1 }, { attempt: 2 }] });
    expect((await store.retries().due(10_000, 100)).map((s) => s.dueMs)).toEqual([9_000]);
  });

  it('reports the states of a put that failed, so that they are not forgotten', async () => {
    const { writes: w, putFailed, removeFailed } = writes();
    await store.close();
    w.put(state(1, 5_000), undefined);
    w.put(state(2, 6_000), undefined);
    w.remove(state(3, 0), undefined);
    await w.settled();
    await vi.waitFor(() => {
      expect(putFailed.map((states) => states.map((s) => s.offset))).toEqual([[1, 2]]);
      expect(removeFailed.map((keys) => keys.map((k) => k.offset))).toEqual([[3]]);
    });
  });
});
