/**
 * Fires retries when they are due, one instance per broker, without holding
 * every pending retry in memory. The due index in RocksDB (`RetryStore`)
 * is the timer wheel; this class keeps only a *window* of it in memory:
 * the states due within the next `windowMs`, at most `windowMax` of them,
 * in due order, with one clock sleep armed for the earliest. As the window
 * drains it is refilled from `store.due()`; states due later stay only in
 * RocksDB until the window reaches them.
 *
 * **The horizon.** `loadedThrough` is a position in the due index: every
 * state at or before it has been loaded (and is held, fired or gone), none
 * after it has. Refills page on from it (`due(..., after)`), so a state
 * fired but not yet replaced or removed by the dispatcher is never loaded
 * twice. `scheduled()` holds a state at or before the horizon (a refill
 * would never see it) and leaves one after it to the refills (see below). A full
 * window ends the horizon at its last state rather than at a time.
 *
 * **Races with refills.** A refill reads the store while the dispatcher
 * goes on, and the dispatcher may call `scheduled()`/`cancelled()` before
 * its put or remove has landed. So the caller's word wins over the store
 * for a while: a refill drops what it read of keys scheduled or cancelled
 * less than `putGraceMs` (1 s) before it began, or while it ran; and a state
 * scheduled beyond the horizon but within reach of the next refills (due
 * within `windowMs` + `putGraceMs`) is kept aside (*deferred*, at most
 * `windowMax`) until a refill's horizon passes it (then it is held) or a
 * refill that began `putGraceMs` after it was scheduled (by then the store
 * has it) ends. Without that, a refill reading the index just before the
 * put landed would move the horizon past the state and it would never fire.
 *
 * **Contract.** Call `scheduled(state)` when `store.put` of it was called
 * (best after it resolved) and `cancelled(key)` when a state was removed (or
 * replaced by one that waits for no timer; `scheduled()` of such a state
 * does the same); a put must land within `putGraceMs`. A state then never
 * fires after it was cancelled or replaced. `onDue` receives the states due
 * together, in due order; they stay in the store until the dispatcher
 * replaces or removes them, so after a restart unsettled ones fire again
 * (at-least-once): check them against your own state before acting.
 * Close the timers before the log store: a refill on a closed store fails
 * (it is logged and retried every second).
 */
import { dropConsumed, toBraidError } from '@braid/core';
import type { BraidError, Clock, Logger } from '@braid/core';
import { compareDuePositions, compareRetryKeys, duePositionOf, retryKeyId, waitsForTimer } from '@braid/storage';
import type { DuePosition, RetryKey, RetryState, RetryStore } from '@braid/storage';

/** Defaults of {@link RetryTimersOptions}. */
export const retryTimersDefaults = {
  /**
   * How far ahead states are held in memory. Refills page on when half of
   * it has passed, so each reads about half a window of the index.
   */
  windowMs: 5_000,
  /**
   * Most states held at once (~0.5 KB each with a short ledger): the
   * window ends earlier when more are due within `windowMs`.
   */
  windowMax: 10_000,
  /** Wait before retrying a refill that failed (a RocksDB read error). */
  reloadAfterFailureMs: 1_000,
  /**
   * How long after `scheduled()`/`cancelled()` the caller's word beats what
   * a refill reads from the store (the put or remove may not have landed):
   * far above a group-commit write's latency.
   */
  putGraceMs: 1_000,
} as const;

/** What the timers read: the due index (a `RetryStore`). */
export type DueIndex = Pick<RetryStore, 'due'>;

/** Options of {@link RetryTimers}. */
export interface RetryTimersOptions {
  /** Where the due index lives: the `RetryStore`. */
  store: DueIndex;
  /** Time; tests pass a `FakeClock`. */
  clock: Clock;
  logger: Logger;
  /** Called with the states that fell due together, in due order. Must not throw (a throw is logged). */
  onDue: (states: RetryState[]) => void;
  /** How far ahead states are held in memory (default 5,000 ms). */
  windowMs?: number;
  /** Most states held in memory (default 10,000). */
  windowMax?: number;
}

/** Figures of a {@link RetryTimers}. */
export interface RetryTimersStats {
  /** States held in memory, waiting to fire. */
  held: number;
  /** States fired. */
  fired: number;
  /** Refills from the store (the first load included). */
  loads: number;
  /** States loaded by refills. */
  loaded: number;
  /** Scheduled states beyond the horizon kept aside until a refill can be trusted to see them. */
  deferred: number;
  /** Scheduled states not kept aside because `windowMax` already were (left to the store). */
  deferOverflow: number;
  /** The due time up to which the index has been loaded, or undefined before `start()`. */
  loadedThroughMs: number | undefined;
}

/** Due order: due time, then key order (the due index's order). */
function compareStates(a: RetryState, b: RetryState): number {
  return a.dueMs - b.dueMs || compareRetryKeys(a, b);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** See the file comment. */
export class RetryTimers {
  private readonly windowMs: number;
  private readonly windowMax: number;
  /** Held states in due order, from `head` on (fired ones before it wait for compaction). */
  private queue: RetryState[] = [];
  private head = 0;
  private readonly held = new Map<string, RetryState>();
  /** See "the horizon" in the file comment; undefined until the first load ends. */
  private loadedThrough: DuePosition | undefined;
  /** The latest position fired: the horizon never moves back before it. */
  private lastFired: DuePosition | undefined;
  private loading: Promise<void> | undefined;
  private loadError: BraidError | undefined;
  /** Key -> clock time of its last `scheduled()`/`cancelled()`, oldest first; pruned after `putGraceMs`. */
  private readonly recent = new Map<string, number>();
  private calls = 0;
  /** Scheduled states beyond the horizon, within reach of the next refills (see the file comment). */
  private readonly deferred = new Map<string, { state: RetryState; at: number }>();
  private loadStartedAt = 0;
  private reloadAt = 0;
  private sleeping: { at: number; controller: AbortController } | undefined;
  private started = false;
  private closed = false;
  private readonly counters = { fired: 0, loads: 0, loaded: 0, deferOverflow: 0 };

  constructor(private readonly options: RetryTimersOptions) {
    this.windowMs = positiveInteger('windowMs', options.windowMs ?? retryTimersDefaults.windowMs);
    this.windowMax = positiveInteger('windowMax', options.windowMax ?? retryTimersDefaults.windowMax);
  }

  /**
   * Loads the first window and arms the timer. Rejects if that load fails
   * (start may then be called again); a call while started waits for the
   * first load.
   */
  async start(): Promise<void> {
    if (this.started) return this.idle();
    this.started = true;
    this.startLoad();
    await this.loading;
    if (this.loadError !== undefined && !this.loadedThrough) {
      this.started = false;
      throw this.loadError;
    }
  }

  /**
   * A state was put with this due time (call once the put was called): it
   * replaces any held state of its key and fires too if it falls in (or
   * before) the loaded window. A state that waits for no timer (`dueMs` 0,
   * dead-lettering) only cancels the held one. A shallow copy is held, so
   * the caller may go on changing its object.
   */
  scheduled(given: RetryState): void {
    if (this.closed) return;
    const state = { ...given };
    const id = retryKeyId(state);
    const now = this.options.clock.now();
    this.noteCall(id, now);
    this.deferred.delete(id);
    this.unhold(id);
    if (!waitsForTimer(state)) return;
    const horizon = this.loadedThrough;
    if (horizon && compareDuePositions(duePositionOf(state), horizon) <= 0) {
      this.hold(id, state);
      this.evictOverflow(now);
      this.arm(now);
    } else {
      this.defer(id, state, now);
    }
  }

  /** A state was removed (or replaced by one that waits for no timer): its held copy never fires. */
  cancelled(key: RetryKey): void {
    if (this.closed) return;
    const id = retryKeyId(key);
    this.noteCall(id, this.options.clock.now());
    this.deferred.delete(id);
    this.unhold(id);
  }

  /** Stops the timer and forgets what is held; a refill in flight is ignored. Idempotent. */
  close(): void {
    this.closed = true;
    this.sleeping?.controller.abort();
    this.sleeping = undefined;
    this.queue = [];
    this.head = 0;
    this.held.clear();
    this.deferred.clear();
    this.recent.clear();
  }

  /** Resolves once no refill is in flight (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.loading) await this.loading;
  }

  /** Held, fired and loaded counts and the horizon. */
  stats(): RetryTimersStats {
    return { ...this.counters, held: this.held.size, deferred: this.deferred.size, loadedThroughMs: this.loadedThrough?.dueMs };
  }

  /** Fires what is due, refills if it is time, and arms the next wake-up. */
  private wake(): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    this.fire(now);
    if (this.shouldLoad(now)) this.startLoad();
    this.arm(now);
  }

  private fire(now: number): void {
    const batch: RetryState[] = [];
    for (let s = this.queue[this.head]; s !== undefined && s.dueMs <= now; s = this.queue[this.head]) {
      this.head++;
      this.held.delete(retryKeyId(s));
      batch.push(s);
    }
    this.compact();
    const last = batch.at(-1);
    if (last === undefined) return;
    const position = duePositionOf(last);
    if (!this.lastFired || compareDuePositions(position, this.lastFired) > 0) this.lastFired = position;
    this.counters.fired += batch.length;
    try {
      this.options.onDue(batch);
    } catch (error) {
      this.options.logger.error({ err: error, states: batch.length }, 'retry onDue handler threw');
    }
  }

  /** When the window should be refilled: at once when a full window has drained to half, else when half of it has passed. */
  private refillAt(): number {
    const horizon = this.loadedThrough;
    if (!horizon) return Number.POSITIVE_INFINITY;
    if (horizon.key !== undefined) return this.held.size <= this.windowMax / 2 ? Number.NEGATIVE_INFINITY : horizon.dueMs;
    return horizon.dueMs - this.windowMs / 2;
  }

  private shouldLoad(now: number): boolean {
    if (this.loading || !this.loadedThrough || this.held.size >= this.windowMax || now < this.reloadAt) return false;
    return now >= this.refillAt();
  }

  /** Arms one sleep for the earliest of the next due time and the next refill; an armed earlier sleep stays. */
  private arm(now: number): void {
    if (this.closed) return;
    let at = this.queue[this.head]?.dueMs ?? Number.POSITIVE_INFINITY;
    if (!this.loading && this.loadedThrough && this.held.size < this.windowMax) at = Math.min(at, Math.max(this.refillAt(), this.reloadAt));
    if (at === Number.POSITIVE_INFINITY) return;
    // An earlier sleep wakes first and re-arms then; an early wake-up fires nothing.
    if (this.sleeping && this.sleeping.at <= at) return;
    this.sleeping?.controller.abort();
    const sleeping = { at, controller: new AbortController() };
    this.sleeping = sleeping;
    this.options.clock.sleep(Math.max(0, at - now), sleeping.controller.signal).then(
      () => {
        if (this.sleeping !== sleeping) return;
        this.sleeping = undefined;
        this.wake();
      },
      // Aborted: re-armed for an earlier time, or closed.
      () => undefined,
    );
  }

  private startLoad(): void {
    if (this.loading || this.closed) return;
    const limit = this.windowMax - this.held.size;
    if (limit <= 0) return;
    const after = this.loadedThrough;
    const now = this.options.clock.now();
    const untilMs = now + this.windowMs;
    this.loadStartedAt = now;
    this.pruneRecent(now);
    this.counters.loads++;
    this.loading = this.load(untilMs, limit, after);
  }

  private async load(untilMs: number, limit: number, after: DuePosition | undefined): Promise<void> {
    let states: RetryState[];
    try {
      states = await this.options.store.due(untilMs, limit, after);
    } catch (error) {
      this.loading = undefined;
      if (this.closed) return;
      this.loadError = toBraidError(error);
      this.options.logger.error({ err: error }, 'loading due retries failed; trying again shortly');
      this.reloadAt = this.options.clock.now() + retryTimersDefaults.reloadAfterFailureMs;
      if (this.loadedThrough) this.arm(this.options.clock.now());
      return;
    }
    this.loading = undefined;
    this.loadError = undefined;
    if (this.closed) return;
    // Keys scheduled or cancelled since then: the caller's word is newer than what was read.
    const trustedBefore = this.loadStartedAt - retryTimersDefaults.putGraceMs;
    for (const state of states) {
      const id = retryKeyId(state);
      if ((this.recent.get(id) ?? Number.NEGATIVE_INFINITY) >= trustedBefore) continue;
      this.unhold(id);
      this.hold(id, state);
    }
    const last = states.at(-1);
    let through: DuePosition = last !== undefined && states.length >= limit ? duePositionOf(last) : { dueMs: untilMs };
    // The clock may have gone back: the horizon never does.
    if (after && compareDuePositions(through, after) < 0) through = after;
    this.loadedThrough = through;
    for (const [id, { state, at }] of this.deferred) {
      if (compareDuePositions(duePositionOf(state), through) <= 0) {
        this.deferred.delete(id);
        this.unhold(id);
        this.hold(id, state);
      } else if (at < trustedBefore) {
        // This refill read the store well after the put: later refills find the state there.
        this.deferred.delete(id);
      }
    }
    this.counters.loaded += states.length;
    this.evictOverflow(this.options.clock.now());
    this.wake();
  }

  /** Adds `state` in due order. */
  private hold(id: string, state: RetryState): void {
    this.held.set(id, state);
    const tail = this.queue.at(-1);
    // Refills append: everything they load lies after what is held.
    if (this.queue.length === this.head || (tail !== undefined && compareStates(tail, state) < 0)) {
      this.queue.push(state);
      return;
    }
    this.queue.splice(this.lowerBound(state), 0, state);
  }

  /** Drops the held state of `id`, if any. */
  private unhold(id: string): void {
    const state = this.held.get(id);
    if (!state) return;
    this.held.delete(id);
    const at = this.lowerBound(state);
    if (this.queue[at] !== state) return;
    if (at === this.head) {
      this.head++;
      this.compact();
    } else {
      this.queue.splice(at, 1);
    }
  }

  /** The first index from `head` whose state does not sort before `state`. */
  private lowerBound(state: RetryState): number {
    let low = this.head;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const s = this.queue[mid];
      if (s !== undefined && compareStates(s, state) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Drops the fired prefix once it is most of the array. */
  private compact(): void {
    const kept = dropConsumed(this.queue, this.head, 1024);
    if (kept) {
      this.queue = kept;
      this.head = 0;
    }
  }

  /** Remembers that the caller spoke about `id` at `now` (see "races with refills"). */
  private noteCall(id: string, now: number): void {
    this.recent.delete(id);
    this.recent.set(id, now);
    // Refills prune too; this bounds the map when they pause (a full window).
    if (++this.calls % 1024 === 0) this.pruneRecent(now);
  }

  /** Forgets calls that no refill needs any more (older than `putGraceMs` before the oldest refill that may still read). */
  private pruneRecent(now: number): void {
    const before = Math.min(now, this.loading ? this.loadStartedAt : now) - retryTimersDefaults.putGraceMs;
    for (const [id, at] of this.recent) {
      if (at >= before) return;
      this.recent.delete(id);
    }
  }

  /** Keeps a state beyond the horizon aside if a refill could miss it; otherwise the store has it. */
  private defer(id: string, state: RetryState, at: number): void {
    if (state.dueMs > at + this.windowMs + retryTimersDefaults.putGraceMs) return;
    if (this.deferred.size >= this.windowMax) {
      // Only a flood of retries due just beyond the window gets here. Memory stays bounded: the store's copy is
      // trusted again instead, which a refill finds once the put has landed.
      this.counters.deferOverflow++;
      this.recent.delete(id);
      return;
    }
    this.deferred.set(id, { state, at });
  }

  /**
   * Keeps at most `windowMax` held: `scheduled()` may add beyond it. The
   * latest states go back to RocksDB only (or aside, if their puts may not
   * have landed yet), and the horizon moves back to just before them, never
   * before the last fired state, so a refill finds them again and no fired
   * state twice. Not while a refill runs: its result is placed against the
   * horizon it started from.
   */
  private evictOverflow(now: number): void {
    if (this.loading || !this.loadedThrough) return;
    while (this.held.size > this.windowMax) {
      const last = this.queue.at(-1);
      if (last === undefined || this.queue.length === this.head) return;
      const position = duePositionOf(last);
      // Held but already behind what fired (scheduled overdue): it fires at the next wake-up anyway.
      if (this.lastFired && compareDuePositions(position, this.lastFired) <= 0) return;
      this.queue.pop();
      const id = retryKeyId(last);
      this.held.delete(id);
      // Its put may not have landed yet: keep it aside until a refill can be trusted to see it.
      const at = this.recent.get(id);
      if (at !== undefined && at >= now - retryTimersDefaults.putGraceMs) this.defer(id, last, at);
      const newLast = this.queue.length > this.head ? this.queue.at(-1) : undefined;
      let through: DuePosition = this.lastFired ?? { dueMs: 0 };
      if (newLast !== undefined && compareDuePositions(duePositionOf(newLast), through) > 0) through = duePositionOf(newLast);
      this.loadedThrough = through;
    }
  }
}
