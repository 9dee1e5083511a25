/**
 * The retry-state writes of one subscription dispatcher, gathered per turn
 * of the event loop: the states saved for failed attempts go to the
 * `RetryStore` as one `put`, and those of settled records as one `remove`,
 * at the end of the turn, instead of one call each.
 *
 * Each store call costs far more than its RocksDB ops: it orders itself
 * behind earlier writes of its keys, builds its keys, and is one entry (and
 * promise) in the group commit. A member that fails or acknowledges several
 * records sends them together, and the dispatcher handles them in one
 * turn. (With 10% of records failing, the retry-state writes took ~10% of
 * the broker's CPU in `npm run bench -- retry-cost`, one call per state.)
 *
 * Order per key is kept: within a turn the puts go before the removes (a
 * record is failed before its retry is acknowledged, never in the same
 * turn the other way round), and the store orders each call behind the
 * earlier ones of its keys. The timers' contract (`RetryTimers`: a put
 * lands within `putGraceMs` of `scheduled()`) holds, as the put is called
 * at the end of the very turn.
 */
import type { RetryKey, RetryState, RetryStore } from '@braid/storage';

/** What happens when a gathered write fails. */
export interface RetryWritesOptions {
  /** The store (looked up at each write: `LogStore.retries()`). */
  store: () => RetryStore;
  /** Puts of these states failed: they must not be forgotten. */
  putFailed: (states: readonly RetryState[], error: unknown) => void;
  /** Removes of these keys failed (their states are orphaned, and dropped when due). */
  removeFailed: (keys: readonly RetryKey[], error: unknown) => void;
}

/** See the file comment. */
export class RetryWrites {
  private puts: RetryState[] = [];
  private putStored: (number | undefined)[] = [];
  private removes: RetryKey[] = [];
  private removeStored: (number | undefined)[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: RetryWritesOptions) {}

  /**
   * Saves `state` (at the end of the turn). `storedDue`: the due time of
   * its key's stored state as last written (see `StoredDueTimes`).
   */
  put(state: RetryState, storedDue: number | undefined): void {
    this.puts.push(state);
    this.putStored.push(storedDue);
    this.schedule();
  }

  /** Removes the state of `key` (at the end of the turn); `storedDue` as for `put`. */
  remove(key: RetryKey, storedDue: number | undefined): void {
    this.removes.push(key);
    this.removeStored.push(storedDue);
    this.schedule();
  }

  /** Resolves once what was gathered so far was handed to the store (for tests and shutdown). */
  settled(): Promise<void> {
    return this.flushing ?? Promise.resolve();
  }

  private schedule(): void {
    this.flushing ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.flushing = undefined;
        this.flush();
        resolve();
      });
    });
  }

  private flush(): void {
    const { puts, putStored, removes, removeStored } = this;
    this.puts = [];
    this.putStored = [];
    this.removes = [];
    this.removeStored = [];
    const store = this.options.store();
    if (puts.length > 0) {
      store.put(puts, 'write', putStored).catch((error: unknown) => {
        this.options.putFailed(puts, error);
      });
    }
    if (removes.length > 0) {
      store.remove(removes, 'write', removeStored).catch((error: unknown) => {
        this.options.removeFailed(removes, error);
      });
    }
  }
}
