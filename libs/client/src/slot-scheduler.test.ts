import { describe, expect, it } from 'vitest';
import { slotForKey } from '@braid/partitioning';
import { SlotScheduler } from './slot-scheduler.js';

interface Item {
  key: Buffer | undefined;
  n: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SlotScheduler', () => {
  it('runs items of one key one at a time in order while other keys run alongside', async () => {
    const started: Item[] = [];
    const releases: (() => void)[] = [];
    const scheduler = new SlotScheduler<Item>({
      slots: 4,
      run: (item) => {
        started.push(item);
        return new Promise<void>((resolve) => releases.push(resolve));
      },
    });
    // Two keys that land on different slots.
    const a = Buffer.from('a');
    let b = Buffer.from('b0');
    for (let i = 1; slotForKey(b, 4) === slotForKey(a, 4); i++) b = Buffer.from(`b${i}`);
    scheduler.submit({ key: a, n: 1 });
    scheduler.submit({ key: a, n: 2 });
    scheduler.submit({ key: b, n: 3 });
    await tick();
    expect(started.map((i) => i.n)).toEqual([1, 3]);
    expect(scheduler.running).toBe(2);
    expect(scheduler.queued).toBe(1);
    releases.shift()?.(); // finish 1: 2 may start now
    await tick();
    expect(started.map((i) => i.n)).toEqual([1, 3, 2]);
    for (const release of releases.splice(0)) release();
    await tick();
    releases.shift()?.();
    await scheduler.idle();
    expect(scheduler.running).toBe(0);
  });

  it('never runs more than `slots` handlers at once and spreads keyless items round-robin', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const scheduler = new SlotScheduler<Item>({
      slots: 3,
      run: async (item) => {
        running += 1;
        peak = Math.max(peak, running);
        await tick();
        running -= 1;
        done.push(item.n);
      },
    });
    for (let n = 0; n < 30; n++) scheduler.submit({ key: undefined, n });
    await scheduler.idle();
    expect(peak).toBe(3);
    expect(done.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it('cancelQueued() hands back items not started; running ones finish', async () => {
    const releases: (() => void)[] = [];
    const scheduler = new SlotScheduler<Item>({ slots: 1, run: () => new Promise<void>((resolve) => releases.push(resolve)) });
    for (let n = 0; n < 3; n++) scheduler.submit({ key: Buffer.from('k'), n });
    await tick();
    expect(scheduler.cancelQueued().map((i) => i.n)).toEqual([1, 2]);
    const idle = scheduler.idle();
    releases.shift()?.();
    await idle;
    expect(releases).toEqual([]);
  });

  it('rejects a concurrency below 1', () => {
    expect(() => new SlotScheduler<Item>({ slots: 0, run: () => Promise.resolve() })).toThrow(RangeError);
  });

  it('removeOfKey takes matching queued items from the slot of the key alone, in order, and leaves running ones', async () => {
    const releases: (() => void)[] = [];
    const scheduler = new SlotScheduler<Item>({ slots: 4, run: () => new Promise<void>((resolve) => releases.push(resolve)) });
    const a = Buffer.from('a');
    let b = Buffer.from('b0');
    for (let i = 1; slotForKey(b, 4) === slotForKey(a, 4); i++) b = Buffer.from(`b${i}`);
    for (let n = 1; n <= 4; n++) scheduler.submit({ key: a, n });
    scheduler.submit({ key: b, n: 5 });
    scheduler.submit({ key: b, n: 6 });
    await tick();
    const asked: number[] = [];
    const removed = scheduler.removeOfKey(a, (item) => {
      asked.push(item.n);
      return item.n !== 3;
    });
    // 1 runs; 2, 3, 4 wait on a's slot; b's slot is not visited.
    expect(asked).toEqual([2, 3, 4]);
    expect(removed.map((item) => item.n)).toEqual([2, 4]);
    expect(scheduler.queued).toBe(2);
    for (const release of releases.splice(0)) release();
    await tick();
    for (const release of releases.splice(0)) release();
    await tick();
    for (const release of releases.splice(0)) release();
    await scheduler.idle();
  });
});
