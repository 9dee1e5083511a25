import { describe, expect, it } from 'vitest';
import { MessageQueue } from './message-queue.js';

describe('MessageQueue', () => {
  it('hands out items in order, to waiting takers first', async () => {
    const queue = new MessageQueue<number>();
    const waiting = queue.next();
    queue.push([1, 2, 3]);
    expect(await waiting).toEqual({ done: false, value: 1 });
    expect(await queue.next()).toEqual({ done: false, value: 2 });
    expect(queue.length).toBe(1);
    expect(await queue.next()).toEqual({ done: false, value: 3 });
  });

  it('removes matching items and keeps the order of the rest', async () => {
    const queue = new MessageQueue<number>();
    queue.push([1, 2, 3, 4, 5]);
    await queue.next();
    expect(queue.remove((n) => n % 2 === 0)).toEqual([2, 4]);
    expect(await queue.next()).toEqual({ done: false, value: 3 });
    expect(await queue.next()).toEqual({ done: false, value: 5 });
  });

  it('asks the predicate once per item, and leaves the queue as it was when nothing matches', async () => {
    const queue = new MessageQueue<number>();
    queue.push([1, 2, 3, 4]);
    await queue.next();
    const asked: number[] = [];
    expect(queue.remove((n) => { asked.push(n); return false; })).toEqual([]);
    expect(asked).toEqual([2, 3, 4]);
    asked.length = 0;
    expect(queue.remove((n) => { asked.push(n); return n === 3; })).toEqual([3]);
    expect(asked).toEqual([2, 3, 4]);
    expect(await queue.next()).toEqual({ done: false, value: 2 });
    expect(await queue.next()).toEqual({ done: false, value: 4 });
  });

  it('close() ends waiting and later takers and returns what was never taken', async () => {
    const queue = new MessageQueue<number>();
    const waiting = queue.next();
    expect(queue.close()).toEqual([]);
    expect(await waiting).toEqual({ done: true, value: undefined });
    const other = new MessageQueue<number>();
    other.push([7, 8]);
    expect(other.close()).toEqual([7, 8]);
    other.push([9]);
    expect(await other.next()).toEqual({ done: true, value: undefined });
  });

  it('fail() rejects waiting and later takers with the error', async () => {
    const queue = new MessageQueue<number>();
    const waiting = queue.next();
    const error = new Error('broken');
    queue.fail(error);
    await expect(waiting).rejects.toBe(error);
    await expect(queue.next()).rejects.toBe(error);
  });

  it('tells when a taker has to wait', async () => {
    let waits = 0;
    const queue = new MessageQueue<number>(() => { waits += 1; });
    queue.push([1]);
    await queue.next();
    expect(waits).toBe(0);
    const waiting = queue.next();
    expect(waits).toBe(1);
    queue.push([2]);
    expect(await waiting).toEqual({ done: false, value: 2 });
  });

  it('stays correct across many pushes and takes (compaction)', async () => {
    const queue = new MessageQueue<number>();
    const taken: number[] = [];
    for (let round = 0; round < 5; round++) {
      queue.push(Array.from({ length: 3000 }, (_, i) => round * 3000 + i));
      for (let i = 0; i < 2500; i++) {
        const next = await queue.next();
        if (!next.done) taken.push(next.value);
      }
    }
    while (queue.length > 0) {
      const next = await queue.next();
      if (!next.done) taken.push(next.value);
    }
    expect(taken).toEqual(Array.from({ length: 15_000 }, (_, i) => i));
  });
});
