import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@braid/core';
import { FakeClock, MemoryLogger } from '@braid/core/testing';
import { LogStore, compareRetryKeys } from '@braid/storage';
import type { RetryState } from '@braid/storage';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryTimers } from './retry-timers.js';
import type { DueIndex, RetryTimersOptions } from './retry-timers.js';

const T0 = 1_700_000_000_000;

let dir: string;
let store: LogStore;
const running: RetryTimers[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-timers-'));
  store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
});

afterEach(async () => {
  for (const timers of running.splice(0)) timers.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Fired {
  at: number;
  state: RetryState;
  batch: number;
}

interface Harness {
  clock: FakeClock;
  timers: RetryTimers;
  fired: Fired[];
  logger: MemoryLogger;
  /** Most states held at once, sampled after every step. */
  peakHeld: () => number;
  /** Advances `ms` in steps of `stepMs`, letting refills finish after each. */
  run: (ms: number, stepMs?: number) => Promise<void>;
}

function harness(options: Partial<RetryTimersOptions> = {}): Harness {
  const clock = new FakeClock(T0);
  const logger = new MemoryLogger();
  const fired: Fired[] = [];
  let batches = 0;
  let peak = 0;
  const timers = new RetryTimers({
    store: store.retries(),
    clock,
    logger,
    onDue: (states) => {
      batches++;
      for (const state of states) fired.push({ at: clock.now(), state, batch: batches });
    },
    ...options,
  });
  running.push(timers);
  return {
    clock,
    timers,
    fired,
    logger,
    peakHeld: () => peak,
    run: async (ms, stepMs = 10) => {
      for (let passed = 0; passed < ms; passed += stepMs) {
        await clock.advance(Math.min(stepMs, ms - passed));
        await timers.idle();
        peak = Math.max(peak, timers.stats().held);
      }
    },
  };
}

function retry(offset: number, dueMs: number, extra: Partial<RetryState> = {}): RetryState {
  return {
    topicId: 1,
    partition: offset % 3,
    subscription: 'push',
    offset,
    attempts: [{ attempt: 1, timeMs: T0, memberId: 'm', disposition: 'nack', reason: 'boom', errorClass: '' }],
    dueMs,
    deadLettering: false,
    ...extra,
  };
}

const dueOrder = (a: RetryState, b: RetryState): number => a.dueMs - b.dueMs || compareRetryKeys(a, b);
const keys = (states: readonly RetryState[]): string[] => states.map((s) => `${s.topicId}/${s.partition}/${s.subscription}/${s.offset}@${s.dueMs}`);

/** Every fired state fired once, in due order, never before its due time and at most `slackMs` after it. */
function expectOnTime(fired: readonly Fired[], expected: readonly RetryState[], slackMs: number): void {
  expect(keys(fired.map((f) => f.state))).toEqual(keys([...expected].sort(dueOrder)));
  for (const { at, state } of fired) {
    expect(at).toBeGreaterThanOrEqual(state.dueMs);
    expect(at - state.dueMs).toBeLessThanOrEqual(slackMs);
  }
}

describe('RetryTimers', () => {
  it('fires states in due order, never early, batching those due together', async () => {
    const h = harness();
    const states = [
      retry(1, T0 + 300),
      retry(2, T0 + 100),
      retry(3, T0 + 100, { subscription: 'analytics' }),
      retry(4, T0 + 100, { topicId: 0 }),
      retry(5, T0 + 2_000),
      retry(6, T0 + 4_999),
      retry(7, T0 + 1),
    ];
    await store.retries().put(states);
    await h.timers.start();
    expect(h.timers.stats()).toMatchObject({ held: 7, loads: 1 });
    await h.run(6_000, 1);
    expectOnTime(h.fired, states, 0);
    // The three due at T0 + 100 came in one call.
    const at100 = h.fired.filter((f) => f.state.dueMs === T0 + 100);
    expect(new Set(at100.map((f) => f.batch)).size).toBe(1);
    expect(h.timers.stats()).toMatchObject({ held: 0, fired: 7 });
  });

  it('fires at once, in due order, what fell due while the broker was down', async () => {
    const h = harness();
    const overdue = [retry(1, T0 - 50_000), retry(2, T0 - 10), retry(3, T0 - 10_000), retry(4, T0 + 20)];
    await store.retries().put(overdue);
    await h.timers.start();
    await h.clock.advance(0);
    expect(keys(h.fired.map((f) => f.state))).toEqual(keys([overdue[0], overdue[2], overdue[1]] as RetryState[]));
    await h.run(100, 5);
    expect(h.fired).toHaveLength(4);
  });

  it('never fires a state cancelled after it was loaded, nor the old state of one replaced', async () => {
    const h = harness();
    const states = [retry(1, T0 + 100), retry(2, T0 + 200), retry(3, T0 + 300), retry(4, T0 + 400)];
    await store.retries().put(states);
    await h.timers.start();
    await store.retries().remove([retry(2, 0)]);
    h.timers.cancelled(retry(2, 0));
    // Replaced by a later retry, and by a state that waits for no timer (dead-lettering began).
    const later = retry(3, T0 + 3_000);
    const dlq = retry(4, T0 + 400, { deadLettering: true });
    await store.retries().put([later, dlq]);
    h.timers.scheduled(later);
    h.timers.scheduled(dlq);
    await h.run(5_000, 5);
    expectOnTime(h.fired, [states[0] as RetryState, later], 5);
  });

  it('drops what a refill read of keys cancelled or rescheduled while it ran', async () => {
    const h = harness();
    await store.retries().put([retry(1, T0 + 100), retry(2, T0 + 200), retry(3, T0 + 300)]);
    // The first load is reading the store while the dispatcher cancels 1 and moves 2.
    const starting = h.timers.start();
    h.timers.cancelled(retry(1, 0));
    const moved = retry(2, T0 + 150);
    h.timers.scheduled(moved);
    await starting;
    await h.run(1_000, 5);
    expect(keys(h.fired.map((f) => f.state))).toEqual(keys([moved, retry(3, T0 + 300)]));
  });

  it('fires a state scheduled before its put landed, even when a refill read the index in between', async () => {
    const h = harness({ windowMs: 1_000 });
    await h.timers.start(); // horizon: T0 + 1,000
    const early = retry(1, T0 + 1_400);
    h.timers.scheduled(early); // the dispatcher calls this as it starts the put
    expect(h.timers.stats()).toMatchObject({ held: 0, deferred: 1 });
    await h.run(600, 10); // the refill at T0 + 500 reads the index before the put lands
    expect(h.timers.stats()).toMatchObject({ held: 1, deferred: 0 });
    await store.retries().put([early]);
    await h.run(3_000, 10);
    expectOnTime(h.fired, [early], 10);
  });

  it("ignores a refill's stale copy of a key rescheduled before its put landed", async () => {
    const h = harness({ windowMs: 1_000 });
    const old = retry(1, T0 + 1_200);
    await store.retries().put([old]);
    await h.timers.start(); // horizon T0 + 1,000: the old state is only in the store
    const moved = retry(1, T0 + 200);
    h.timers.scheduled(moved); // its put has not landed when the refill at T0 + 500 reads the old state
    await h.run(2_000, 10);
    await store.retries().put([moved]);
    expectOnTime(h.fired, [moved], 10);
  });

  it('holds at most windowMax states, refilling from the store as the window drains', async () => {
    const h = harness({ windowMs: 1_000, windowMax: 10 });
    // 200 states over 6 s, some sharing a due time; fired states stay in the store (the dispatcher has not settled them).
    const states = Array.from({ length: 200 }, (_, i) => retry(i, T0 + 30 * Math.floor(i / 1.5) + 1, { partition: i % 4 }));
    await store.retries().put(states);
    await h.timers.start();
    expect(h.timers.stats().held).toBe(10);
    await h.run(7_000, 5);
    expectOnTime(h.fired, states, 5);
    expect(h.peakHeld()).toBeLessThanOrEqual(10);
    expect(h.timers.stats().loads).toBeGreaterThan(20);
  });

  it('keeps states scheduled beyond the window in RocksDB only, and fires them when the window reaches them', async () => {
    const h = harness({ windowMs: 5_000 });
    await h.timers.start();
    const far = retry(1, T0 + 60_000);
    const soon = retry(2, T0 + 1_000);
    await store.retries().put([far, soon]);
    h.timers.scheduled(far);
    h.timers.scheduled(soon);
    expect(h.timers.stats().held).toBe(1);
    await h.run(2_000, 50);
    expect(keys(h.fired.map((f) => f.state))).toEqual(keys([soon]));
    expect(h.timers.stats().held).toBe(0);
    await h.run(60_000, 50);
    expectOnTime(h.fired, [soon, far], 50);
  });

  it('fires a state scheduled with a due time already past at the next turn', async () => {
    const h = harness();
    await h.timers.start();
    const now = retry(1, T0 - 5);
    await store.retries().put([now]);
    h.timers.scheduled(now);
    await h.clock.advance(0);
    expect(h.fired.map((f) => f.at)).toEqual([T0]);
  });

  it('sends states beyond windowMax that scheduled() added back to RocksDB, and fires every one once', async () => {
    const h = harness({ windowMs: 5_000, windowMax: 5 });
    await h.timers.start();
    const states = Array.from({ length: 12 }, (_, i) => retry(i, T0 + 100 * (12 - i)));
    for (const state of states) {
      await store.retries().put([state]);
      h.timers.scheduled(state);
      expect(h.timers.stats().held).toBeLessThanOrEqual(5);
    }
    await h.run(2_000, 5);
    expectOnTime(h.fired, states, 5);
  });

  it('logs a throwing onDue handler and keeps firing', async () => {
    let calls = 0;
    const h = harness({
      onDue: () => {
        calls++;
        throw new Error('handler bug');
      },
    });
    await store.retries().put([retry(1, T0 + 10), retry(2, T0 + 20)]);
    await h.timers.start();
    await h.run(100, 5);
    expect(calls).toBe(2);
    expect(h.logger.entries.filter((e) => e.message === 'retry onDue handler threw')).toHaveLength(2);
  });

  it('retries a refill that failed, and rejects start() when the first load fails', async () => {
    let failures = 1;
    const flaky: DueIndex = {
      due: (untilMs, limit, after) => {
        if (failures > 0 && after !== undefined) {
          failures--;
          return Promise.reject(new UnavailableError('RocksDB read failed'));
        }
        return store.retries().due(untilMs, limit, after);
      },
    };
    const h = harness({ store: flaky, windowMs: 1_000 });
    await h.timers.start();
    const states = [retry(1, T0 + 2_000), retry(2, T0 + 2_400)];
    await store.retries().put(states);
    await h.run(4_000, 10);
    expect(h.logger.entries.filter((e) => e.message === 'loading due retries failed; trying again shortly')).toHaveLength(1);
    expectOnTime(h.fired, states, 10);

    let down = true;
    const broken = harness({
      store: { due: (untilMs, limit, after) => (down ? Promise.reject(new UnavailableError('RocksDB read failed')) : store.retries().due(untilMs, limit, after)) },
    });
    expect(await broken.timers.start().then(() => 'started', (error: unknown) => error)).toBeInstanceOf(UnavailableError);
    // Started again once the store reads: it loads and fires.
    down = false;
    await broken.timers.start();
    await broken.run(3_000, 10);
    expect(broken.fired.map((f) => f.state.offset)).toEqual([1, 2]);
  });

  it('stops firing when closed', async () => {
    const h = harness();
    await store.retries().put([retry(1, T0 + 10)]);
    await h.timers.start();
    h.timers.close();
    await h.run(100, 5);
    expect(h.fired).toEqual([]);
    expect(h.clock.pendingSleeps).toBe(0);
  });

  it('rejects a bad window', () => {
    expect(() => new RetryTimers({ store: store.retries(), clock: new FakeClock(), logger: new MemoryLogger(), onDue: () => undefined, windowMax: 0 })).toThrow(RangeError);
    expect(() => new RetryTimers({ store: store.retries(), clock: new FakeClock(), logger: new MemoryLogger(), onDue: () => undefined, windowMs: 1.5 })).toThrow(RangeError);
  });
});
